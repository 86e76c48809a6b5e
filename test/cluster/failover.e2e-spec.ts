import type { Kysely } from 'kysely';
import { NatsHolder } from '@keys/bus';
import { headPosition, readCheckpoint } from '@keys/event-store';
import { PROJECTOR_CHECKPOINT, type ReadModelDatabase, cleanReplayChecksum, readModelChecksum } from '@keys/read-models';
import { createTestContext, type TestContext, waitFor } from '@keys/testing';
import { type AppProcess, startAppProcess, stopAppProcess } from '../fixtures/app-process.fixture';
import { openKeyService, operator, startCommandApp, type RunningCommandApp } from '../fixtures/command-app.fixture';
import { NatsCluster, type NodeName } from '../fixtures/nats-cluster.fixture';
import { type RunningVerifierApp, startVerifierApp } from '../fixtures/verifier-app.fixture';
import { VerifyMessageController } from '../../apps/verifier/src/verify.message.controller';
import { ClusterLoad, plainApi, streamEventIds } from './cluster-load';

// The whole system on a 3-node NATS cluster (stream with 3 replicas), 2 command instances, a projector and a
// standby, 2 verifiers, with writes and verifies flowing, while NATS nodes and the projector fail. The steps
// run in order on one setup: each leaves the system as the next expects it (a node killed in (a) is back before
// (b) kills another, so the stream always keeps a quorum).

const PROJECTOR_PAUSE_MS = 10_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const request = (key: string) => new TextEncoder().encode(JSON.stringify({ key, scope: 'proxy' }));

describe('failover on a 3-node NATS cluster', () => {
  let cluster: NatsCluster;
  let ctx: TestContext;
  let clusterCtx: TestContext;
  const commands: RunningCommandApp[] = [];
  const verifiers: RunningVerifierApp[] = [];
  const projectors: AppProcess[] = [];
  let store: Awaited<ReturnType<typeof openKeyService>>;
  let db: Kysely<ReadModelDatabase>;
  let load: ClusterLoad;
  let observer: Awaited<ReturnType<NatsCluster['connect']>>;
  let billingKey: string;
  /** The node killed in (b), restarted in (d). */
  let downNode: NodeName | undefined;

  const nodeOf = (v: RunningVerifierApp) => v.app.get(NatsHolder).current?.info?.server_name as NodeName | undefined;
  const head = () => headPosition(store.db as never);
  const checkpoint = () => readCheckpoint(store.db as never, PROJECTOR_CHECKPOINT);
  /** The stream's cluster info, retried: during an election the JetStream API answers nothing for a while. */
  const streamCluster = () =>
    waitFor(() => cluster.streamCluster(observer, ctx.streamName).catch(() => null), { timeoutMs: 30_000, intervalMs: 200 });
  const allReplicasCurrent = () =>
    waitFor(
      async () => {
        const info = await cluster.streamCluster(observer, ctx.streamName).catch(() => null);
        return info?.leader && info.replicas.length === 2 && info.replicas.every((r) => r.current && !r.offline) ? info : null;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  /**
   * Every event in the stream exactly once and in position order: the stream equals the store up to the stream's
   * end (the load may still be appending), and that end is at least the head when called.
   */
  const expectStreamEqualsStore = async () => {
    const target = await head();
    await waitFor(async () => ((await streamInfo().catch(() => null))?.state.last_seq ?? 0) >= target, { timeoutMs: 30_000, intervalMs: 200 });
    const inStream = await streamEventIds(observer, ctx.streamName);
    const last = Math.max(...inStream.map((m) => m.position));
    expect(last).toBeGreaterThanOrEqual(target);
    const stored = await store.db.selectFrom('events').select(['position', 'event_id']).where('position', '<=', last).orderBy('position').execute();
    expect(inStream.map((m) => m.position)).toEqual(stored.map((e) => Number(e.position)));
    expect(inStream.map((m) => m.eventId)).toEqual(stored.map((e) => e.event_id));
    expect(inStream.every((m) => m.msgId === m.eventId)).toBe(true);
    return inStream.length;
  };
  const streamInfo = async () => (await observer.jetstreamManager()).streams.info(ctx.streamName);

  beforeAll(async () => {
    cluster = await NatsCluster.start();
    ctx = await createTestContext();
    clusterCtx = { ...ctx, natsUrl: cluster.url };
    for (let i = 0; i < 2; i++) commands.push(await startCommandApp(clusterCtx, { streamReplicas: 3, runExpirySweep: false }));
    store = await openKeyService(ctx);
    db = store.db as unknown as Kysely<ReadModelDatabase>;
    billingKey = (await store.keys.createAccount('Acme', operator)).billingKey.key;
    for (let i = 0; i < 2; i++) projectors.push(startAppProcess('projector', clusterCtx));
    for (let i = 0; i < 2; i++) verifiers.push(await startVerifierApp(clusterCtx));
    await Promise.all(verifiers.map((v) => v.serving(30_000)));
    observer = await cluster.connect();
    await waitFor(async () => (await checkpoint()) === (await head()), { timeoutMs: 60_000, intervalMs: 200 });
    load = new ClusterLoad(
      commands.map((c) => plainApi(c.baseUrl, billingKey)),
      await cluster.connect(),
      ctx.subjectPrefix,
    );
    load.start();
    await waitFor(() => load.answered() > 50, { timeoutMs: 20_000 }).catch((err) => {
      throw new Error(`${(err as Error).message}: ${load.writes()} writes, ${load.answered()} verifies answered; last error: ${load.lastError}`);
    });
  }, 90_000);

  afterAll(async () => {
    await load?.stop();
    for (const v of verifiers) await v.close().catch(() => undefined);
    for (const p of projectors) await stopAppProcess(p).catch(() => undefined);
    for (const c of commands) await c.close().catch(() => undefined);
    await observer?.close().catch(() => undefined);
    await store?.close();
    await ctx?.dispose();
    await cluster?.stop();
  }, 60_000);

  afterEach(() => {
    // A wrong verdict is the one thing no failure may cause; show them all if any.
    expect(load.wrongVerdicts).toEqual([]);
  });

  it('(a) the node a verifier is on dies: verifies keep being answered, never wrongly, and revocation still reaches it', async () => {
    const victim = nodeOf(verifiers[0]);
    expect(victim).toBeDefined();
    const nodes = { verifiers: verifiers.map(nodeOf), loadClient: NatsCluster.serverOf(load.nc), streamLeader: (await streamCluster())?.leader };
    await sleep(1000);
    const from = Date.now();
    await cluster.kill(victim!);
    await sleep(3000);
    const stats = load.window(from, Date.now());
    console.log(`failover (a): killed ${victim} (nodes: ${JSON.stringify(nodes)}); ${stats.failed}/${stats.sent} verifies failed (${(stats.failedFraction * 100).toFixed(2)} %), longest gap between answers ${stats.maxGapMs} ms, ${stats.writes} writes answered`);
    expect(stats.maxGapMs).toBeLessThanOrEqual(2000);
    expect(stats.answered).toBeGreaterThan(0);

    // The verifier that lost its node is back, on another one, and serving.
    await waitFor(() => nodeOf(verifiers[0]) !== undefined && nodeOf(verifiers[0]) !== victim, { timeoutMs: 10_000 });
    await verifiers[0].serving(10_000);
    const api = plainApi(commands[0].baseUrl, billingKey);
    const { body } = await api.post('/api/keys', { name: 'after-failover' });
    const answer = (v: RunningVerifierApp) => v.app.get(VerifyMessageController).answer(request(body.key)).code;
    expect(verifiers.map(answer)).toEqual(['VALID', 'VALID']);
    expect((await api.delete(`/api/keys/${body.id}`)).status).toBe(200);
    expect(verifiers.map(answer)).toEqual(['DELETED', 'DELETED']);
    expect((await load.verify(body.key)).code).toBe('DELETED');

    // (d) for this node: back on the same ports and store, it catches up before (b) takes another node away.
    const restartedAt = Date.now();
    await cluster.restart(victim!);
    const info = await allReplicasCurrent();
    console.log(`failover (a→d): ${victim} restarted, all replicas current after ${Date.now() - restartedAt} ms (leader ${info?.leader})`);
  }, 60_000);

  it('(b) the stream leader dies while the relay publishes a backlog: every event reaches the stream once, in position order', async () => {
    const { accountId } = await store.keys.createAccount('Burst', operator);
    const leader = (await streamCluster())!.leader!;
    const relayPosition = () => readCheckpoint(store.db as never, `relay:${ctx.streamName}`);
    const backlog = async () => (await head()) - (await relayPosition());
    // Appends go on, in rounds wide enough that one group commit leaves the relay a few hundred events to publish,
    // until a new leader is elected: the relay has a backlog at the kill and a growing one through the outage.
    let elected = false;
    const burst = (async () => {
      for (let round = 0; round < 100 && !elected; round++) {
        await Promise.all(Array.from({ length: 200 }, (_, i) => store.keys.createKey({ accountId, keyType: 'proxy', name: `b${round}.${i}`, expiresAt: null }, operator)));
      }
    })();
    // The leader is killed the moment a backlog of more than 100 events is seen.
    let backlogAtKill = 0;
    await waitFor(async () => (backlogAtKill = await backlog()) > 100, { timeoutMs: 30_000, intervalMs: 2 });
    const killedAt = Date.now();
    await cluster.kill(leader);
    downNode = leader;
    let peakBacklog = backlogAtKill;
    const newLeader = await waitFor(
      async () => {
        peakBacklog = Math.max(peakBacklog, await backlog());
        const l = (await cluster.streamCluster(observer, ctx.streamName).catch(() => null))?.leader;
        return l && l !== leader ? l : null;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    const electedMs = Date.now() - killedAt;
    elected = true;
    await burst;
    const finalHead = await head();
    await waitFor(async () => ((await streamInfo().catch(() => null))?.state.last_seq ?? 0) >= finalHead, { timeoutMs: 30_000, intervalMs: 200 });
    const caughtUpMs = Date.now() - killedAt;
    const events = await expectStreamEqualsStore();
    const stats = load.window(killedAt, Date.now());
    console.log(
      `failover (b): killed stream leader ${leader} with ${backlogAtKill} events unpublished (peak backlog ${peakBacklog}); new leader ${newLeader} after ${electedMs} ms, stream complete after ${caughtUpMs} ms; ${events} events, each once, in position order; verifies meanwhile: ${stats.failed}/${stats.sent} failed, longest gap ${stats.maxGapMs} ms`,
    );
    expect(peakBacklog).toBeGreaterThan(100);
  }, 240_000); // above the sum of its bounded waits, so a slow run fails on the wait that was slow, not on the clock

  it(`(c) the active projector is paused (SIGSTOP, ${PROJECTOR_PAUSE_MS / 1000} s): the standby takes over or it resumes, and the read models equal a clean replay`, async () => {
    const before = await checkpoint();
    projectors[0].child.kill('SIGSTOP');
    let during: number;
    try {
      await sleep(PROJECTOR_PAUSE_MS);
      during = await checkpoint();
    } finally {
      projectors[0].child.kill('SIGCONT');
    }
    const headAtResume = await head();
    await load.quiesce();
    const finalHead = await head();
    await waitFor(async () => (await checkpoint()) === finalHead, { timeoutMs: 30_000, intervalMs: 100 });
    const { position, ...replayed } = await cleanReplayChecksum(db, finalHead);
    expect(position).toBe(finalHead);
    expect(await readModelChecksum(db)).toEqual(replayed);
    console.log(
      `failover (c): projector paused ${PROJECTOR_PAUSE_MS} ms; checkpoint ${before} → ${during} during the pause (head ${headAtResume}: ${during > before ? 'the standby took over' : 'nobody projected until it resumed'}); read models equal a clean replay at ${finalHead}`,
    );
    load.start();
  }, 90_000);

  it('(d) the node that was down restarts: its replica catches up and nothing is duplicated', async () => {
    const restartedAt = Date.now();
    await cluster.restart(downNode!);
    const info = await allReplicasCurrent();
    const caughtUpMs = Date.now() - restartedAt;
    await load.quiesce();
    const events = await expectStreamEqualsStore();
    const state = (await streamInfo()).state;
    expect(state.messages).toBe(events);
    expect(events).toBe(await head());
    const stats = load.window(0, Date.now());
    console.log(
      `failover (d): ${downNode} restarted, all replicas current after ${caughtUpMs} ms (leader ${info?.leader}); stream ${state.messages} messages = store ${events} events; whole run: ${stats.failed}/${stats.sent} verifies failed, ${stats.writes} writes, 0 wrong verdicts`,
    );
  }, 60_000);
});
