import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { appendThroughput } from './append.bench';
import { type BenchEnv, createBenchEnv } from './bench-env';
import { type BenchResult, medians } from './bench-result';
import { httpCreateThroughput } from './http-create.bench';
import { type LargeStore, generateLargeStore } from './million-events.fixture';
import { projectionLagP99 } from './projection-lag.bench';
import { rawCommitLoop } from './raw-commit.baseline';
import { rebuildThroughput } from './rebuild.bench';
import { revocationP99 } from './revocation.bench';
import { verifierColdStart } from './verifier-cold-start.bench';
import { verifyBenchmarks } from './verify.bench';
import { deleteLatency } from './write-propagation.bench';

// `npm run bench`: measures the hot paths against raw baselines measured in the same run, prints a table
// and writes bench/results.json. Targets not met are reported as such.

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
/** Keys in the large store of rebuild_throughput and verifier_cold_start (plus one change per ten keys). */
const LARGE_STORE_KEYS = Number(process.env.BENCH_LARGE_STORE_KEYS ?? 1_000_000);
const REVOKED_KEYS = 250;
/** DELETEs timed per setting in delete_latency_<n>v. */
const DELETED_KEYS = Number(process.env.BENCH_DELETED_KEYS ?? 300);
const LAG_DURATION_MS = Number(process.env.BENCH_LAG_DURATION_MS ?? 10_000);
const only = process.argv.slice(2);
const wanted = (name: string) => only.length === 0 || only.includes(name);

/** Each benchmark runs this many times; the median run is the result (this machine is noisy). */
const REPEATS = Math.max(1, Number(process.env.BENCH_REPEATS ?? 3));

async function main(): Promise<void> {
  buildApps();
  const runs: BenchResult[] = [];
  const env = await createBenchEnv();
  try {
    for (let round = 1; round <= REPEATS; round++) {
      console.error(`round ${round} of ${REPEATS}`);
      runs.push(...(await measureOnce(env)));
    }
    if (wanted('rebuild_throughput') || wanted('verifier_cold_start')) {
      // One large store for every round of both, generated once; its generation time is reported, not measured.
      await withEnv(async (large) => {
        console.error(`generating the large store (${LARGE_STORE_KEYS} keys)...`);
        const store: LargeStore = await generateLargeStore(large.databaseUrl, LARGE_STORE_KEYS);
        console.error(`generated ${store.events} events in ${store.generationSeconds.toFixed(1)} s`);
        for (let round = 1; round <= REPEATS; round++) {
          if (wanted('rebuild_throughput')) runs.push(await rebuildThroughput(store));
          if (wanted('verifier_cold_start')) runs.push(await verifierColdStart(large, store));
        }
      });
    }
  } finally {
    await env.dispose();
  }
  const results = medians(runs);
  print(results);
  mkdirSync(join(__dirname), { recursive: true });
  writeFileSync(join(__dirname, 'results.json'), `${JSON.stringify({ repeats: REPEATS, results, runs }, null, 2)}\n`);
  console.log(`\nmachine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
}

/**
 * The started apps run compiled, as in production (bench/app-process.ts): `npm run build` without the dashboard,
 * which no benchmark serves. Built on every run, so dist/ can never be older than the source being measured;
 * skipped when only benchmarks that start no app are asked for.
 */
function buildApps(): void {
  if (only.length > 0 && only.every((name) => NO_APPS.includes(name))) return;
  const started = Date.now();
  const root = join(__dirname, '..');
  for (const tool of ['tsc', 'tsc-alias']) execFileSync(join(root, 'node_modules', '.bin', tool), ['-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  console.error(`built the apps into dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Benchmarks that run in this process only. */
const NO_APPS = ['append_throughput', 'rebuild_throughput'];

/** One round of every wanted benchmark except the large-store ones. */
async function measureOnce(env: BenchEnv): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  let rawCommit: number | null = null;
  const raw = async () => (rawCommit ??= await rawCommitLoop(env.databaseUrl, 32, DURATION_MS));
  // A store of its own per round: its streams would collide with the previous round's.
  if (wanted('append_throughput')) results.push(await withEnv(async (e) => appendThroughput(e.databaseUrl, await raw(), 32, DURATION_MS)));
  if (wanted('http_create_throughput')) {
    const baseline = await raw();
    // A database of its own: on the shared one the command's relay would spend the run publishing the
    // events append_throughput left behind.
    results.push(await withEnv((e) => httpCreateThroughput(e, baseline, 32, DURATION_MS)));
  }
  if (wanted('http_create_throughput_nowait')) results.push(await withEnv(async (e) => httpCreateThroughput(e, await raw(), 32, DURATION_MS, 1, false)));
  if (wanted('http_create_throughput_2v')) results.push(await withEnv(async (e) => httpCreateThroughput(e, await raw(), 32, DURATION_MS, 2)));
  for (const n of [1, 2]) if (wanted(`delete_latency_${n}v`)) results.push(await withEnv((e) => deleteLatency(e, n, DELETED_KEYS)));
  if (wanted('verify_throughput') || wanted('verify_p50')) results.push(...(await withEnv((e) => verifyBenchmarks(e, DURATION_MS, wanted))));
  if (wanted('revocation_p99')) results.push(await withEnv((e) => revocationP99(e, REVOKED_KEYS)));
  if (wanted('projection_lag_p99')) results.push(await withEnv((e) => projectionLagP99(e, LAG_DURATION_MS)));
  return results;
}

/** Runs one benchmark on a database and stream of its own, so earlier benchmarks' data does not weigh on it. */
async function withEnv<T>(run: (env: BenchEnv) => Promise<T>): Promise<T> {
  const env = await createBenchEnv();
  try {
    return await run(env);
  } finally {
    await env.dispose();
  }
}

function print(results: BenchResult[]): void {
  const rows = results.map((r) => [r.name, `${r.value} ${r.unit}`, r.baseline === null ? '—' : String(r.baseline), r.ratio === null ? '—' : String(r.ratio), r.target, r.met ? 'met' : 'NOT MET', notesOf(r)]);
  const header = ['name', 'value', 'baseline', 'ratio', 'target', 'result', 'notes'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

function notesOf(result: BenchResult): string {
  return Object.entries(result.notes ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
}

main().catch((err) => {
  console.error(`bench failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
