import { createServer } from 'node:net';
import { freePorts } from './free-ports';

describe('freePorts', () => {
  it('never hands out the same port twice in one call', async () => {
    for (let round = 0; round < 200; round++) {
      const ports = await freePorts(9);
      expect(new Set(ports).size).toBe(9);
    }
  });

  it('returns ports that are bindable once it resolves', async () => {
    const [port] = await freePorts(1);
    const server = createServer();
    await new Promise<void>((bound, fail) => {
      server.once('error', fail);
      server.listen(port, '127.0.0.1', () => bound());
    });
    await new Promise((closed) => server.close(closed));
  });
});
