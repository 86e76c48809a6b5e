import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

export interface AppProcess {
  child: ChildProcess;
  /** Peak resident set size in bytes, sampled from /proc while the process runs. */
  peakRss(): number;
  /** CPU time (user + system) the process has used so far, in seconds (from /proc; 10 ms resolution). */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/**
 * Starts an app in its own process as production runs it: one process per app, the JavaScript that `npm run build`
 * compiles (dist/apps/<app>/src/main.js), which bench/run.ts builds before any benchmark. From source through
 * swc-node every start would also compile each module on load (about a second and 75 MB more for the verifier).
 */
export function startApp(app: string, env: Record<string, string>): AppProcess {
  const main = `dist/apps/${app}/src/main.js`;
  if (!existsSync(join(ROOT, main))) throw new Error(`${main} is missing: npm run bench builds the apps first (buildApps in bench/run.ts)`);
  return startNode([main], env);
}

/** Runs a TypeScript file of the bench itself (path from the repository root) in its own node process. */
export function startScript(path: string, env: Record<string, string>): AppProcess {
  return startNode(['-r', '@swc-node/register', path], env);
}

function startNode(args: string[], env: Record<string, string>): AppProcess {
  const extra = process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : [];
  const child = spawn(process.execPath, [...extra, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let peak = 0;
  const sampler = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const match = /VmRSS:\s+(\d+) kB/.exec(status);
      if (match) peak = Math.max(peak, Number(match[1]) * 1024);
    } catch {
      /* process gone */
    }
  }, 20);
  return {
    child,
    peakRss: () => peak,
    cpuSeconds: () => cpuSecondsOf(child.pid),
    async stop() {
      clearInterval(sampler);
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      });
    },
  };
}

/** utime + stime of a process from /proc/<pid>/stat (clock ticks of 10 ms on Linux); 0 once it is gone. */
export function cpuSecondsOf(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid ?? 'self'}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields overall.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

export async function waitForHttp(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not become ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
