import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

// `npm start`: command, projector and verifier as three processes, so each keeps its own event loop and
// can also be started alone. A child that dies takes the group down (a supervisor restarts the whole).
const APPS = ['command', 'projector', 'verifier'] as const;
const children = new Map<string, ChildProcess>();
let stopping = false;

for (const app of APPS) {
  const child = fork(join(__dirname, '..', '..', app, 'src', 'main.js'), [], { stdio: 'inherit' });
  children.set(app, child);
  child.on('exit', (code, signal) => {
    children.delete(app);
    if (!stopping) {
      console.error(`${app} exited (${signal ?? code}); stopping the others`);
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
}

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
