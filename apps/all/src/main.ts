import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

// `npm start`: command, projector, verifier and gateway as four processes, so each keeps its own event loop and
// can also be started alone. A child that dies takes the group down (a supervisor restarts the whole).
//
// Ports: PORT is the public API's (the command's); the others take PROJECTOR_PORT, VERIFIER_PORT and
// GATEWAY_PORT here, since each app alone reads PORT.
const APPS = [
  { name: 'command', portVariable: 'PORT', defaultPort: '3000' },
  { name: 'projector', portVariable: 'PROJECTOR_PORT', defaultPort: '3001' },
  { name: 'verifier', portVariable: 'VERIFIER_PORT', defaultPort: '3002' },
  { name: 'gateway', portVariable: 'GATEWAY_PORT', defaultPort: '3003' },
] as const;
/** After SIGTERM, how long the children get before they are killed (each bounds its own shutdown below this). */
const STOP_GRACE_MS = 8000;

const children = new Map<string, ChildProcess>();
let stopping = false;

for (const app of APPS) {
  const port = process.env[app.portVariable] || app.defaultPort;
  const child = fork(join(__dirname, '..', '..', app.name, 'src', 'main.js'), [], { stdio: 'inherit', env: { ...process.env, PORT: port } });
  children.set(app.name, child);
  child.on('exit', (code, signal) => {
    children.delete(app.name);
    if (!stopping) {
      console.error(`${app.name} exited (${signal ?? code}); stopping the others`);
      stop(1);
    } else if (children.size === 0) process.exit(process.exitCode ?? 0);
  });
}

function stop(code: number): void {
  if (stopping) return;
  stopping = true;
  process.exitCode = code;
  for (const child of children.values()) child.kill('SIGTERM');
  if (children.size === 0) process.exit(code);
  setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
  }, STOP_GRACE_MS).unref();
}

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
