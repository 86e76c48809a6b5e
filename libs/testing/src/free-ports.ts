import { type Server, createServer } from 'node:net';

/**
 * `count` distinct free loopback ports. Every probe stays bound until all are chosen: probing one port at a
 * time lets the kernel hand the same port out twice (about 1 start in 200 for a 9-port cluster), and a server
 * that then cannot bind its port fails the whole fixture. A race with other processes between the probes'
 * close and the server's bind remains; it is far rarer.
 */
export async function freePorts(count: number): Promise<number[]> {
  const probes: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const probe = createServer();
      probes.push(probe);
      await new Promise<void>((bound, fail) => {
        probe.once('error', fail);
        probe.listen(0, '127.0.0.1', () => bound());
      });
    }
    return probes.map((probe) => (probe.address() as { port: number }).port);
  } finally {
    await Promise.all(probes.map((probe) => new Promise((closed) => (probe.listening ? probe.close(closed) : closed(undefined)))));
  }
}
