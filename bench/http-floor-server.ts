import { createServer } from 'node:http';

// The floor under http_create_throughput: a plain node:http server in its own process that does the least any
// HTTP handler of POST /api/keys must do (read the body, parse it as JSON, answer 201 with a JSON body the size
// of a create's answer) and nothing else. Its CPU per request, and the load generator's against it, show how
// much of a create's cost is the HTTP exchange itself on this machine. FLOOR_PORT: port to listen on.

const port = Number(process.env.FLOOR_PORT);
if (!Number.isInteger(port) || port <= 0) throw new Error('FLOOR_PORT is required');
// A create's answer: the key object and the secret, about 400 bytes of JSON.
const answer = JSON.stringify({
  id: 1234567,
  accountId: 1,
  type: 'proxy',
  name: 'bench',
  prefix: 'sk_live_ab12',
  status: 'active',
  createdAt: '2026-01-01T00:00:00.000Z',
  expiresAt: null,
  lastUsedAt: null,
  revokedAt: null,
  revokedReason: null,
  key: `sk_live_${'x'.repeat(48)}`,
});
const server = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => (body += chunk));
  req.on('end', () => {
    if (req.method !== 'POST') {
      res.end('ok'); // the readiness probe of the bench
      return;
    }
    JSON.parse(body);
    res.writeHead(201, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(answer) });
    res.end(answer);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
const stop = () => server.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
