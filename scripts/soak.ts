/*
 * Soak: the whole system on a 3-node NATS cluster (stream with 3 replicas), 2 command instances, a projector and
 * a standby, 2 verifiers, a mixed write and verify load, and with --faults one fault at a time (a node killed
 * and restarted, the stream leader killed and restarted, a node paused, a projector paused). At the end it checks
 * the invariants and exits non-zero on any violation.
 *
 *   npm run soak -- --duration 60 [--faults]
 *
 * Needs Postgres (TEST_DATABASE_URL, else DATABASE_URL; a fresh database is created and dropped) and
 * /usr/sbin/nats-server (NATS_SERVER_BIN). NATS_URL is not used: the script runs its own cluster.
 */
import type { Kysely } from 'kysely';
import { headPosition, readCheckpoint } from '@keys/event-store';
import { PROJECTOR_CHECKPOINT, type ReadModelDatabase, cleanReplayChecksum, readModelChecksum } from '@keys/read-models';
import { createTestContext, waitFor } from '@keys/testing';
import { type AppProcess, startAppProcess, stopAppProcess } from '../test/fixtures/app-process.fixture';
import { openKeyService, operator, startCommandApp, type RunningCommandApp } from '../test/fixtures/command-app.fixture';
import { NatsCluster, type NodeName } from '../test/fixtures/nats-cluster.fixture';
import { type RunningVerifierApp, startVerifierApp } from '../test/fixtures/verifier-app.fixture';
import { ClusterLoad, plainApi, streamEventIds } from '../test/cluster/cluster-load';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = (min: number, max: number) => min + Math.random() * (max - min);

function parseArgs(argv: string[]): { durationS: number; faults: boolean } {
  let durationS = 60;
  let faults = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--duration') durationS = Number(argv[++i]);
    else if (argv[i] === '--faults') faults = true;
    else throw new Error(`unknown argument ${argv[i]} (usage: soak --duration <s> [--faults])`);
  }
  if (!Number.isFinite(durationS) || durationS <= 0) throw new Error('--duration takes a positive number of seconds');
  return { durationS, faults };
}

async function main(): Promise<number> {
  const { durationS, faults } = parseArgs(process.argv.slice(2));
  process.env.TEST_DATABASE_URL ??= process.env.DATABASE_URL;
  const cluster = await NatsCluster.start();
  // createTestContext names the stream and subjects and disposes of them on the cluster.
  process.env.NATS_URL = cluster.url;
  const ctx = await createTestContext();
  const commands: RunningCommandApp[] = [];
  const verifiers: RunningVerifierApp[] = [];
  const projectors: AppProcess[] = [];
  const store = await openKeyService(ctx);
  const observer = await cluster.connect();
  let load: ClusterLoad | undefined;
  const log = (line: string) => process.stdout.write(`soak: ${line}\n`);
  try {
    for (let i = 0; i < 2; i++) commands.push(await startCommandApp(ctx, { streamReplicas: 3, runExpirySweep: false }));
    const billingKey = (await store.keys.createAccount('Soak', operator)).billingKey.key;
    for (let i = 0; i < 2; i++) projectors.push(startAppProcess('projector', ctx));
    for (let i = 0; i < 2; i++) verifiers.push(await startVerifierApp(ctx));
    await Promise.all(verifiers.map((v) => v.serving(30_000)));
    load = new ClusterLoad(
      commands.map((c) => plainApi(c.baseUrl, billingKey)),
      await cluster.connect(),
      ctx.subjectPrefix,
    );
    load.start();
    log(`running ${durationS} s${faults ? ' with faults' : ''}`);

    const end = Date.now() + durationS * 1000;
    let faultCount = 0;
    while (Date.now() < end) {
      if (!faults) {
        await sleep(Math.min(1000, end - Date.now()));
        continue;
      }
      await sleep(Math.min(between(3000, 6000), Math.max(0, end - Date.now())));
      if (Date.now() >= end) break;
      faultCount++;
      await injectFault(cluster, observer, ctx.streamName, projectors, log);
    }

    await load.quiesce();
    const head = await headPosition(store.db as never);
    // Settle: the relay publishes the rest, the projector reaches the head, every replica is current.
    await waitFor(async () => ((await observer.jetstreamManager().then((m) => m.streams.info(ctx.streamName)).catch(() => null))?.state.last_seq ?? 0) >= head, { timeoutMs: 60_000, intervalMs: 200 }).catch(() => undefined);
    await waitFor(async () => (await readCheckpoint(store.db as never, PROJECTOR_CHECKPOINT)) >= head, { timeoutMs: 60_000, intervalMs: 200 }).catch(() => undefined);
    const replicasCurrent = await waitFor(
      async () => {
        const info = await cluster.streamCluster(observer, ctx.streamName).catch(() => null);
        return Boolean(info?.leader && info.replicas.length === 2 && info.replicas.every((r) => r.current));
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    ).catch(() => false);

    const stored = await store.db.selectFrom('events').select(['position', 'event_id']).orderBy('position').execute();
    const inStream = await streamEventIds(observer, ctx.streamName);
    const streamIds = new Set(inStream.map((m) => m.eventId));
    const lost = stored.filter((e) => !streamIds.has(e.event_id)).length;
    const duplicated = inStream.length - streamIds.size;
    const outOfOrder = inStream.filter((m, i) => m.position !== i + 1 || m.eventId !== stored[i]?.event_id).length;
    const db = store.db as unknown as Kysely<ReadModelDatabase>;
    const { position, ...replayed } = await cleanReplayChecksum(db, head);
    const live = await readModelChecksum(db);
    const modelMismatches =
      (position === head ? 0 : 1) + Object.keys(replayed).filter((k) => JSON.stringify((live as unknown as Record<string, unknown>)[k]) !== JSON.stringify((replayed as unknown as Record<string, unknown>)[k])).length;
    const stats = load.window(0, Date.now());
    const wrong = load.wrongVerdicts.length;
    log(`${durationS} s, ${load.writes()} writes, ${stats.answered} verifies, faults=${faultCount}, lost=${lost} duplicated=${duplicated} wrong_verdicts=${wrong} model_mismatches=${modelMismatches}`);
    log(`${stats.failed}/${stats.sent} verifies unanswered (${(stats.failedFraction * 100).toFixed(2)} %), longest gap ${stats.maxGapMs} ms; out_of_order=${outOfOrder}; replicas current: ${replicasCurrent}`);
    for (const w of load.wrongVerdicts.slice(0, 10)) log(`wrong verdict: ${JSON.stringify(w)}`);
    return lost + duplicated + wrong + modelMismatches + outOfOrder === 0 && replicasCurrent ? 0 : 1;
  } finally {
    await load?.stop();
    for (const v of verifiers) await v.close().catch(() => undefined);
    for (const p of projectors) await stopAppProcess(p).catch(() => undefined);
    for (const c of commands) await c.close().catch(() => undefined);
    await observer.close().catch(() => undefined);
    await store.close();
    await ctx.dispose().catch(() => undefined);
    await cluster.stop();
  }
}

/** One fault, healed before it returns, so the stream never loses its quorum. */
async function injectFault(cluster: NatsCluster, observer: Awaited<ReturnType<NatsCluster['connect']>>, stream: string, projectors: AppProcess[], log: (line: string) => void) {
  const nodes: NodeName[] = ['n1', 'n2', 'n3'];
  const any = nodes[Math.floor(Math.random() * 3)];
  const kind = Math.floor(Math.random() * 4);
  if (kind === 0 || kind === 1) {
    const victim = kind === 0 ? any : ((await cluster.streamLeader(observer, stream).catch(() => undefined)) ?? any);
    log(`kill ${victim}${kind === 1 ? ' (stream leader)' : ''}`);
    await cluster.kill(victim);
    await sleep(between(2000, 5000));
    await cluster.restart(victim);
    // Back to three current replicas before the next fault.
    await waitFor(
      async () => {
        const info = await cluster.streamCluster(observer, stream).catch(() => null);
        return Boolean(info?.leader && info.replicas.length === 2 && info.replicas.every((r) => r.current));
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    ).catch(() => log(`replicas not all current 30 s after restarting ${victim}`));
  } else if (kind === 2) {
    log(`pause ${any}`);
    cluster.pause(any);
    await sleep(between(1000, 3000));
    cluster.resume(any);
  } else {
    const p = projectors[Math.floor(Math.random() * projectors.length)];
    log(`pause projector ${p.child.pid}`);
    p.child.kill('SIGSTOP');
    await sleep(between(2000, 5000));
    p.child.kill('SIGCONT');
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
