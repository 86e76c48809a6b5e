import { readFileSync, readdirSync } from 'node:fs';
import { type AppProcess, cpuSecondsOf } from './app-process';

/**
 * CPU time per operation of every process in a measured loop. On a small machine the apps, the load generator,
 * NATS and Postgres share the cores, so where a throughput goes is best read as CPU µs per operation by process.
 * Postgres is the sum over all its processes (backends, WAL writer, ...) that live through the window.
 */
export class CpuMeter {
  private readonly before: Map<string, number>;
  private readonly writesBefore: Map<string, number>;

  private constructor(private readonly apps: Record<string, AppProcess>) {
    this.before = this.sample();
    this.writesBefore = this.writes();
  }

  static start(apps: Record<string, AppProcess>): CpuMeter {
    return new CpuMeter(apps);
  }

  /** µs of CPU per operation, by process name, over the window since start(). */
  perOperation(operations: number): Record<string, number> {
    const after = this.sample();
    const result: Record<string, number> = {};
    for (const [name, seconds] of after) {
      const spent = seconds - (this.before.get(name) ?? seconds);
      result[`${name}_cpu_us`] = Math.round((spent * 1e6 * 10) / operations) / 10;
    }
    // Write syscalls per operation: on loopback each one also runs the receiver's TCP path, so their count is a
    // large part of the CPU above.
    for (const [name, count] of this.writes()) {
      result[`${name}_writes`] = Math.round(((count - (this.writesBefore.get(name) ?? count)) * 10) / operations) / 10;
    }
    return result;
  }

  private writes(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const [name, app] of Object.entries(this.apps)) counts.set(name, writeSyscallsOf(app.child.pid));
    counts.set('loadgen', writeSyscallsOf(process.pid));
    return counts;
  }

  private sample(): Map<string, number> {
    const totals = new Map<string, number>();
    for (const [name, app] of Object.entries(this.apps)) totals.set(name, app.cpuSeconds());
    totals.set('loadgen', cpuSecondsOf(undefined));
    totals.set('nats', sumOf(pidsNamed('nats-server')));
    totals.set('postgres', sumOf(pidsNamed('postgres')));
    return totals;
  }
}

/** Pids whose /proc/<pid>/comm is `comm` (read-only use: their CPU time). */
export function pidsNamed(comm: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) pids.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return pids;
}

function sumOf(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
}

/** Write syscalls a process has made so far (syscw in /proc/<pid>/io); 0 once it is gone. */
export function writeSyscallsOf(pid: number | undefined): number {
  try {
    return Number(/syscw: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}
