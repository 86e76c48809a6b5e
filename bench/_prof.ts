import 'reflect-metadata';
import { execSync } from 'node:child_process';
import type { Kysely } from 'kysely';
import { openEventStore } from '@keys/event-store';
import { type ReadModelDatabase, rebuildReadModels } from '@keys/read-models';
import { createBenchEnv } from './bench-env';
import { keysetScan } from './keyset-scan.baseline';
import { generateLargeStore } from './million-events.fixture';
const pgCpu = () => Number(execSync(`ps -C postgres -o times= | awk '{s+=$1} END {print s}'`).toString());
(async () => {
  const env = await createBenchEnv();
  try {
    const store = await generateLargeStore(env.databaseUrl, Number(process.argv[2] ?? 100000));
    console.log('gen', store.generationSeconds);
    let c0 = process.cpuUsage(); let p0 = pgCpu(); let t0 = Date.now();
    console.log('scan', await keysetScan(env.databaseUrl), 'node cpu s', (process.cpuUsage(c0).user + process.cpuUsage(c0).system) / 1e6, 'pg cpu s', pgCpu() - p0, 'wall', (Date.now() - t0) / 1000);
    const db = (await openEventStore(env.databaseUrl, { max: 2 })) as unknown as Kysely<ReadModelDatabase>;
    const bs = Number(process.argv[3] ?? 1000);
    c0 = process.cpuUsage(); p0 = pgCpu(); t0 = Date.now();
    const r = await rebuildReadModels(db, env.databaseUrl, { batchSize: bs });
    const cu = process.cpuUsage(c0);
    console.log('rebuild', r, 'node cpu s', (cu.user + cu.system) / 1e6, 'pg cpu s', pgCpu() - p0, 'wall', (Date.now() - t0) / 1000);
    await db.destroy();
  } finally { await env.dispose(); }
})();
