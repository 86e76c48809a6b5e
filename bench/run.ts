import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { appendThroughput } from './append.bench';
import { createBenchEnv } from './bench-env';
import type { BenchResult } from './bench-result';
import { httpCreateThroughput } from './http-create.bench';
import { rawCommitLoop } from './raw-commit.baseline';

// `npm run bench`: measures the hot paths against raw baselines measured in the same run, prints a table
// and writes bench/results.json. Targets not met are reported as such.

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const only = process.argv.slice(2);
const wanted = (name: string) => only.length === 0 || only.includes(name);

async function main(): Promise<void> {
  const results: BenchResult[] = [];
  const env = await createBenchEnv();
  try {
    let rawCommit: number | null = null;
    const raw = async () => (rawCommit ??= await rawCommitLoop(env.databaseUrl, 32, DURATION_MS));
    if (wanted('append_throughput')) results.push(await appendThroughput(env.databaseUrl, await raw(), 32, DURATION_MS));
    if (wanted('http_create_throughput')) results.push(await httpCreateThroughput(env, await raw(), 32, DURATION_MS));
  } finally {
    await env.dispose();
  }
  print(results);
  mkdirSync(join(__dirname), { recursive: true });
  writeFileSync(join(__dirname, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nmachine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
}

function print(results: BenchResult[]): void {
  const rows = results.map((r) => [r.name, `${r.value} ${r.unit}`, r.baseline === null ? '—' : String(r.baseline), r.ratio === null ? '—' : String(r.ratio), r.target, r.met ? 'met' : 'NOT MET']);
  const header = ['name', 'value', 'baseline', 'ratio', 'target', 'result'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

main().catch((err) => {
  console.error(`bench failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
