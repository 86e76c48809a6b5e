import { AckPolicy, DeliverPolicy, type JetStreamManager, type JsMsg, type NatsConnection, nanos } from 'nats';
import { NatsKeyVerifier } from '@keys/auth';
import {
  VERIFIER_QUEUE_GROUP,
  allEventsSubject,
  decodeJson,
  encodeAnnouncement,
  encodeFence,
  encodeJson,
  ensureKeyStream,
  eventSubject,
  parseAnnouncement,
  parseFence,
  verifierAppliedSubject,
  verifierFenceSubject,
  usageSubject,
  verifySubject,
} from '@keys/bus';
import { generateKey } from '@keys/key-material';
import { waitFor } from '@keys/testing';
import { VerifierIndex } from '../../apps/verifier/src/verifier-index';
import { VerifyMessageController } from '../../apps/verifier/src/verify.message.controller';
import { type DeployNats, NATS_USERS, type NatsUser, inboxPrefixOf, startDeployNats } from './deploy-nats.fixture';

// deploy/nats.conf is the production NATS config: two accounts (KEYS holds the stream and the key service's
// users; CONSUMERS holds the gateway and imports only the verify service and the live events), one user per
// app, least privilege, an inbox prefix per user. This file runs it in a private nats-server (the
// permissions are the subject under test, so it does not use the shared test NATS or createTestContext;
// there is no database involved) with the production stream and subject names, and proves the flows the
// apps need work while the forbidden ones, each an attack that worked with the previous config, are refused.

const STREAM = 'KEYS';
const PREFIX = 'keys.v1';
const PROJECTOR_CONSUMER = 'projector';

const KEY_CREATED = {
  eventId: '7f0c1a52-6a1e-4c3e-9d55-0b8f3f1f6a01',
  type: 'KeyCreated',
  position: 1,
  streamId: 'key-1',
  streamVersion: 1,
  occurredAt: '2026-01-01T00:00:00.000Z',
  data: { keyId: 1, accountId: 1, keyType: 'proxy', name: 'Production', prefix: 'ms-Ab12x', hash: 'a'.repeat(64), expiresAt: null },
  metadata: { actor: { type: 'operator', name: 'test' } },
};

/** Reply subjects a requester may name to aim the verifier's answer at something other than its inbox. */
const REPLY_TRICKS = ['$JS.API.STREAM.PURGE.KEYS', eventSubject(PREFIX, 1, 'KeyDeleted'), '$SYS.REQ.SERVER.PING.CONNZ'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('deploy/nats.conf permissions', () => {
  let nats: DeployNats;
  const nc = {} as Record<NatsUser, NatsConnection>;
  // Asynchronous "Permissions Violation" errors the server sent each connection (nats.js reports only
  // the error code there; the subject shows in the rejected request's or subscription's own error).
  const violations = new Map<NatsConnection, number>();
  let commandJsm: JetStreamManager;

  const watchViolations = (conn: NatsConnection) => {
    violations.set(conn, 0);
    void (async () => {
      for await (const status of conn.status()) {
        if (status.type === 'error' && status.data === 'PERMISSIONS_VIOLATION') violations.set(conn, (violations.get(conn) ?? 0) + 1);
      }
    })();
    return conn;
  };
  const connect = async (user: NatsUser, options?: { inboxPrefix?: string }) => watchViolations(await nats.connectAs(user, options));

  beforeAll(async () => {
    nats = await startDeployNats();
    for (const user of NATS_USERS) nc[user] = await connect(user);
    // The command creates the stream on start with the real code path, under its own permissions.
    commandJsm = await nc.command.jetstreamManager();
    await ensureKeyStream(commandJsm, { streamName: STREAM, subjectPrefix: PREFIX });
    const ack = await nc.command.jetstream().publish(eventSubject(PREFIX, 1, 'KeyCreated'), encodeJson(KEY_CREATED), { msgID: KEY_CREATED.eventId });
    expect(ack).toMatchObject({ stream: STREAM, seq: 1, duplicate: false });
  });

  afterAll(async () => {
    await nats?.stop();
  });

  /** Count and last sequence: a purge changes the first, anything appended changes both. */
  const streamState = async () => {
    const { messages, last_seq } = (await commandJsm.streams.info(STREAM)).state;
    return { messages, last_seq };
  };
  /** Runs `act` and waits for the server to report one more permission violation to `conn`. */
  const refused = async (conn: NatsConnection, act: () => void) => {
    const before = violations.get(conn) ?? 0;
    act();
    await conn.flush();
    await waitFor(() => (violations.get(conn) ?? 0) > before);
  };
  /** Subscribes and resolves with the server's refusal (the subscription is closed with the error). */
  const subscriptionRefusal = async (conn: NatsConnection, subject: string): Promise<string> => {
    let refusal: Error | null = null;
    let received = 0;
    const sub = conn.subscribe(subject, {
      callback: (err) => {
        if (err) refusal = err;
        else received += 1;
      },
    });
    await conn.flush();
    await waitFor(() => sub.isClosed());
    expect(received).toBe(0);
    return String(refusal);
  };

  describe('the flows the apps need', () => {
    it('lets the command publish key events, acknowledged by the stream, and find the stream (keysctl replay)', async () => {
      const ack = await nc.command.jetstream().publish(eventSubject(PREFIX, 1, 'KeyRenamed'), encodeJson({ ...KEY_CREATED, type: 'KeyRenamed' }), {
        msgID: 'renamed-1',
      });
      expect(ack).toMatchObject({ stream: STREAM, seq: 2 });
      expect(await commandJsm.streams.find(eventSubject(PREFIX, 1, 'KeyCreated'))).toBe(STREAM);
      expect(violations.get(nc.command)).toBe(0);
    });

    it('lets the projector keep its durable consumer and acknowledge what it applied', async () => {
      // The projector's own start-up path: the stream exists, so ensureKeyStream only reads its info.
      const jsm = await nc.projector.jetstreamManager();
      await ensureKeyStream(jsm, { streamName: STREAM, subjectPrefix: PREFIX });
      await jsm.consumers.add(STREAM, {
        durable_name: PROJECTOR_CONSUMER,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: allEventsSubject(PREFIX),
      });
      const consumer = await nc.projector.jetstream().consumers.get(STREAM, PROJECTOR_CONSUMER);
      const message = await consumer.next({ expires: 3000 });
      expect(message?.seq).toBe(1);
      expect(await message?.ackAck()).toBe(true);
      expect((await consumer.info()).ack_floor.stream_seq).toBe(1);
      expect(violations.get(nc.projector)).toBe(0);
    });

    it('lets the verifier follow new events with an ephemeral consumer of its own, and remove it', async () => {
      // What the verifier's EventFollower does.
      const jsm = await nc.verifier.jetstreamManager();
      const info = await jsm.consumers.add(STREAM, {
        name: 'verifier-follow-1',
        deliver_policy: DeliverPolicy.New,
        ack_policy: AckPolicy.None,
        filter_subject: allEventsSubject(PREFIX),
        mem_storage: true,
        num_replicas: 1,
        inactive_threshold: nanos(60_000),
      });
      const consumer = await nc.verifier.jetstream().consumers.get(STREAM, info.name);
      const next = consumer.next({ expires: 5000 });
      await sleep(100); // the pull request is in place before the event
      await nc.command.jetstream().publish(eventSubject(PREFIX, 1, 'KeyDeactivated'), encodeJson({ ...KEY_CREATED, type: 'KeyDeactivated' }), { msgID: 'deactivated-1' });
      expect(decodeJson((await next)!.data)).toMatchObject({ type: 'KeyDeactivated' });
      expect(await jsm.consumers.delete(STREAM, info.name)).toBe(true);
      expect(violations.get(nc.verifier)).toBe(0);
    });

    it('lets the command (keysctl audit verify --against-stream) read the whole stream with an ordered consumer', async () => {
      const before = violations.get(nc.command) ?? 0;
      const consumer = await nc.command.jetstream().consumers.get(STREAM);
      const first = await consumer.next({ expires: 3000 });
      expect(first?.seq).toBe(1);
      expect(decodeJson(first!.data)).toMatchObject({ type: 'KeyCreated', position: 1 });
      await consumer.delete();
      expect(violations.get(nc.command) ?? 0).toBe(before);
    });

    it('lets the verifier name its consumer (the create API that carries the name in the subject, as the verifier follower does)', async () => {
      const jsm = await nc.verifier.jetstreamManager();
      const info = await jsm.consumers.add(STREAM, {
        name: 'verifier-named-1',
        deliver_policy: DeliverPolicy.New,
        ack_policy: AckPolicy.None,
        filter_subject: allEventsSubject(PREFIX),
        inactive_threshold: nanos(60_000),
      });
      expect(info.name).toBe('verifier-named-1');
      expect(await jsm.consumers.delete(STREAM, info.name)).toBe(true);
      expect(violations.get(nc.verifier)).toBe(0);
    });

    it('lets the gateway (account CONSUMERS) follow live key events through the stream import', async () => {
      const received: unknown[] = [];
      const sub = nc.gateway.subscribe(allEventsSubject(PREFIX), { callback: (err, msg) => err || received.push(decodeJson(msg.data)) });
      await nc.gateway.flush();
      try {
        await nc.command.jetstream().publish(eventSubject(PREFIX, 1, 'KeyReactivated'), encodeJson({ ...KEY_CREATED, type: 'KeyReactivated' }), { msgID: 'reactivated-1' });
        await waitFor(() => received.length === 1);
        expect(received[0]).toMatchObject({ type: 'KeyReactivated' });
      } finally {
        sub.unsubscribe();
      }
      expect(violations.get(nc.gateway)).toBe(0);
    });

    it('lets the gateway (through the service import) and the command verify keys with the real verifier controller', async () => {
      const controller = new VerifyMessageController(new VerifierIndex(), PREFIX);
      const verifierNc = await connect('verifier');
      controller.listen(verifierNc);
      await verifierNc.flush();
      try {
        const key = generateKey('proxy').key;
        expect(await new NatsKeyVerifier(nc.gateway, { subjectPrefix: PREFIX }).verify(key, 'proxy')).toEqual({ valid: false, code: 'NOT_FOUND', status: 401 });
        expect(await new NatsKeyVerifier(nc.command, { subjectPrefix: PREFIX }).verify(generateKey('billing').key, 'billing')).toEqual({
          valid: false,
          code: 'NOT_FOUND',
          status: 401,
        });
        expect(controller.answered).toBe(2);
        expect(controller.refused).toBe(0);
        expect(violations.get(verifierNc)).toBe(0);
      } finally {
        await controller.close();
      }
    });
  });

  describe('attack: a reply subject that is not the requester inbox (the verifier used to publish wherever it was told)', () => {
    it.each(REPLY_TRICKS)('the real verifier controller drops a request from the command replying to %s', async (trick) => {
      const controller = new VerifyMessageController(new VerifierIndex(), PREFIX);
      const verifierNc = await connect('verifier');
      controller.listen(verifierNc);
      await verifierNc.flush();
      const before = await streamState();
      const { inMsgs, outMsgs } = verifierNc.stats();
      try {
        nc.command.publish(verifySubject(PREFIX), encodeJson({ key: generateKey('proxy').key, scope: 'proxy' }), { reply: trick });
        await nc.command.flush();
        // The callback runs as the message is read, so once it is counted the controller has decided.
        await waitFor(() => verifierNc.stats().inMsgs > inMsgs);
        await verifierNc.flush();
        await sleep(200); // time for anything it might have published to take effect
        expect(await streamState()).toEqual(before);
        expect(verifierNc.stats().outMsgs).toBe(outMsgs);
        expect(controller.answered).toBe(0);
        expect(controller.refused).toBe(1);
      } finally {
        await controller.close();
      }
    });

    it.each(REPLY_TRICKS)('a request from the gateway replying to %s is answered in its own account, never in KEYS', async (trick) => {
      const controller = new VerifyMessageController(new VerifierIndex(), PREFIX);
      const verifierNc = await connect('verifier');
      controller.listen(verifierNc);
      await verifierNc.flush();
      const before = await streamState();
      try {
        nc.gateway.publish(verifySubject(PREFIX), encodeJson({ key: generateKey('proxy').key, scope: 'proxy' }), { reply: trick });
        await nc.gateway.flush();
        // The service import handed the verifier an `_R_.…` reply subject, so it answered...
        await waitFor(() => controller.answered === 1);
        await verifierNc.flush();
        await sleep(200);
        // ...into CONSUMERS, where no JetStream or event stream listens on that subject.
        expect(await streamState()).toEqual(before);
        expect(controller.refused).toBe(0);
        expect(violations.get(verifierNc)).toBe(0);
      } finally {
        await controller.close();
      }
    });

    it.each(REPLY_TRICKS)('the server refuses a verifier that answers on %s (what allow_responses used to permit)', async (trick) => {
      // A verifier without the reply-subject check, as the controller was: the config alone must hold.
      const naive = await connect('verifier');
      const sub = naive.subscribe(verifySubject(PREFIX), {
        queue: VERIFIER_QUEUE_GROUP,
        callback: (err, msg) => {
          if (!err) msg.respond(encodeJson({ valid: true, code: 'VALID', status: 200 }));
        },
      });
      await naive.flush();
      const before = await streamState();
      const ask = async (requester: NatsConnection) => {
        const handled = naive.stats().inMsgs;
        requester.publish(verifySubject(PREFIX), encodeJson({ key: 'ms-x', scope: 'proxy' }), { reply: trick });
        await requester.flush();
        await waitFor(() => naive.stats().inMsgs > handled);
        await naive.flush();
        await sleep(200); // time for the answer to take effect, were it allowed
      };
      try {
        // From CONSUMERS the reply arrives as `_R_.…`, and the answer goes back into CONSUMERS.
        await ask(nc.gateway);
        expect(await streamState()).toEqual(before);
        // From inside KEYS it reaches the verifier unchanged, and the server refuses the verifier's publish.
        await ask(nc.command);
        expect(await streamState()).toEqual(before);
        expect(violations.get(naive)).toBe(1);
      } finally {
        sub.unsubscribe();
      }
    });

    it('refuses the verifier a direct publish to the JetStream API, the system subjects and the events', async () => {
      for (const subject of REPLY_TRICKS) await refused(nc.verifier, () => nc.verifier.publish(subject, encodeJson({ valid: true, code: 'VALID', status: 200 })));
    });
  });

  describe('attack: forging events or answering verifications', () => {
    it.each(['gateway', 'verifier', 'projector'] as const)('refuses a fake key event from the %s user; nothing lands in the stream', async (user) => {
      const before = await streamState();
      const subject = eventSubject(PREFIX, 1, 'KeyReactivated');
      await expect(nc[user].jetstream().publish(subject, encodeJson({ ...KEY_CREATED, type: 'KeyReactivated' }), { timeout: 3000 })).rejects.toMatchObject({
        code: 'PERMISSIONS_VIOLATION',
      });
      // Plain core publish too (what a hand-rolled client would try): dropped by the server.
      await refused(nc[user], () => nc[user].publish(eventSubject(PREFIX, 2, 'KeyDeleted'), encodeJson({ ...KEY_CREATED, type: 'KeyDeleted' })));
      expect(await streamState()).toEqual(before);
    });

    it('refuses the gateway a subscription on keys.v1.verify, so it can never answer a verification', async () => {
      const subject = verifySubject(PREFIX);
      expect(await subscriptionRefusal(nc.gateway, subject)).toContain(`Permissions Violation for Subscription to "${subject}"`);
      // With no verifier running, a request finds nobody: the gateway's subscription never reached the server.
      await expect(nc.command.request(subject, encodeJson({ key: 'ms-whatever', scope: 'proxy' }), { timeout: 2000 })).rejects.toMatchObject({ code: '503' });
    });
  });

  describe('read-your-writes for verification: announcements and fence orders', () => {
    it('carries the verifier announcements to the command and the command fence orders to the verifier', async () => {
      const before = [violations.get(nc.command) ?? 0, violations.get(nc.verifier) ?? 0];
      const announcements = nc.command.subscribe(verifierAppliedSubject(PREFIX), { max: 1 });
      const fences = nc.verifier.subscribe(verifierFenceSubject(PREFIX), { max: 1 });
      await Promise.all([nc.command.flush(), nc.verifier.flush()]);
      nc.verifier.publish(verifierAppliedSubject(PREFIX), encodeAnnouncement({ instance: 'v1', applied: 3, serving: true }));
      nc.command.publish(verifierFenceSubject(PREFIX), encodeFence({ position: 4 }));
      for await (const msg of announcements) expect(parseAnnouncement(msg.data)).toEqual({ instance: 'v1', applied: 3, serving: true });
      for await (const msg of fences) expect(parseFence(msg.data)).toEqual({ position: 4 });
      expect([violations.get(nc.command) ?? 0, violations.get(nc.verifier) ?? 0]).toEqual(before);
    });

    it('refuses the gateway and the projector both: no fake confirmation, no fence order, no reading them', async () => {
      for (const conn of [nc.gateway, nc.projector]) {
        await refused(conn, () => conn.publish(verifierAppliedSubject(PREFIX), encodeAnnouncement({ instance: 'fake', applied: 1e9, serving: true })));
        await refused(conn, () => conn.publish(verifierFenceSubject(PREFIX), encodeFence({ position: 1 })));
        for (const subject of [verifierAppliedSubject(PREFIX), verifierFenceSubject(PREFIX)]) {
          expect(await subscriptionRefusal(conn, subject)).toContain(`Permissions Violation for Subscription to "${subject}"`);
        }
      }
      // Nor can the verifier order its peers out, or the command pose as a verifier.
      await refused(nc.verifier, () => nc.verifier.publish(verifierFenceSubject(PREFIX), encodeFence({ position: 1 })));
      await refused(nc.command, () => nc.command.publish(verifierAppliedSubject(PREFIX), encodeAnnouncement({ instance: 'fake', applied: 1, serving: true })));
    });
  });

  describe('usage telemetry: the verifiers publish keys.v1.usage, the projector reads it, nobody else writes it', () => {
    const batch = (instance: string) => encodeJson({ instance, batch: [[1, Date.now()]] });

    it('carries a verifier usage batch to the projector', async () => {
      const before = [violations.get(nc.verifier) ?? 0, violations.get(nc.projector) ?? 0];
      const batches = nc.projector.subscribe(usageSubject(PREFIX), { max: 1 });
      await nc.projector.flush();
      nc.verifier.publish(usageSubject(PREFIX), batch('v1'));
      for await (const msg of batches) expect(decodeJson(msg.data)).toMatchObject({ instance: 'v1' });
      expect([violations.get(nc.verifier) ?? 0, violations.get(nc.projector) ?? 0]).toEqual(before);
    });

    it('refuses the command, the projector and the gateway a publish there; a forged batch from CONSUMERS never reaches the projector', async () => {
      const received: unknown[] = [];
      const sub = nc.projector.subscribe(usageSubject(PREFIX), { callback: (err, msg) => err || received.push(decodeJson(msg.data)) });
      await nc.projector.flush();
      try {
        for (const conn of [nc.command, nc.projector, nc.gateway]) await refused(conn, () => conn.publish(usageSubject(PREFIX), batch('forged')));
        // The marker proves the subscription was live for the forged ones before it.
        nc.verifier.publish(usageSubject(PREFIX), batch('marker'));
        await waitFor(() => received.length > 0);
        expect(received).toEqual([expect.objectContaining({ instance: 'marker' })]);
      } finally {
        sub.unsubscribe();
      }
      // Nor may the command or the gateway listen to it.
      for (const conn of [nc.command, nc.gateway]) {
        expect(await subscriptionRefusal(conn, usageSubject(PREFIX))).toContain(`Permissions Violation for Subscription to "${usageSubject(PREFIX)}"`);
      }
    });
  });

  describe('attack: purging or deleting the stream', () => {
    it.each(NATS_USERS)('refuses the %s user a purge and a delete of the KEYS stream', async (user) => {
      const before = await streamState();
      // Past the JetStream availability check, which CONSUMERS (no JetStream) would already fail.
      const jsm = await nc[user].jetstreamManager({ checkAPI: false });
      await expect(jsm.streams.purge(STREAM)).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
      await expect(jsm.streams.delete(STREAM)).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
      await expect(jsm.streams.update(STREAM, { subjects: ['elsewhere.>'] })).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
      expect(await streamState()).toEqual(before);
    });

    it('gives the CONSUMERS account no JetStream at all', async () => {
      await expect(nc.gateway.jetstreamManager()).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
    });
  });

  describe("attack: another user's durable consumer (pull, ack, change, delete the projector's)", () => {
    let pending: JsMsg;
    const projectorState = async () => {
      const info = await (await nc.projector.jetstreamManager()).consumers.info(STREAM, PROJECTOR_CONSUMER);
      return { ackFloor: info.ack_floor.stream_seq, delivered: info.delivered.stream_seq, ackPending: info.num_ack_pending, config: info.config };
    };

    beforeAll(async () => {
      // The projector's durable consumer (as it creates it on start) holds one message delivered and not yet
      // acknowledged: an ack subject an intruder could use.
      await nc.command.jetstream().publish(eventSubject(PREFIX, 1, 'KeyRenamed'), encodeJson({ ...KEY_CREATED, type: 'KeyRenamed' }), { msgID: 'renamed-2' });
      const jsm = await nc.projector.jetstreamManager();
      await jsm.consumers.add(STREAM, { durable_name: PROJECTOR_CONSUMER, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, filter_subject: allEventsSubject(PREFIX) });
      const consumer = await nc.projector.jetstream().consumers.get(STREAM, PROJECTOR_CONSUMER);
      // Everything before the last event is acknowledged, so exactly one stays pending.
      for (;;) {
        pending = (await consumer.next({ expires: 3000 }))!;
        if ((await consumer.info()).num_pending === 0) break;
        await pending.ackAck();
      }
    });

    it.each(['gateway', 'verifier', 'command'] as const)('refuses the %s user', async (user) => {
      const before = await projectorState();
      expect(before).toMatchObject({ delivered: pending.seq, ackPending: 1 });
      const intruder = nc[user];
      const jsm = await intruder.jetstreamManager({ checkAPI: false });

      await expect(jsm.consumers.info(STREAM, PROJECTOR_CONSUMER)).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
      // Pull: straight to the API subject, as consumers.get() stops at the refused info.
      const pull = intruder.request(`$JS.API.CONSUMER.MSG.NEXT.${STREAM}.${PROJECTOR_CONSUMER}`, encodeJson({ batch: 10, no_wait: true }), { timeout: 3000 });
      await expect(pull).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
      // Ack the message the projector has not applied yet (it would never be redelivered).
      const ackSubject = (pending as JsMsg & { reply: string }).reply;
      expect(ackSubject).toMatch(/^\$JS\.ACK\.KEYS\.projector\./);
      await refused(intruder, () => intruder.publish(ackSubject, encodeJson({})));
      // Change it: both the new API (name in the subject) and the legacy durable create.
      await expect(
        jsm.consumers.add(STREAM, { durable_name: PROJECTOR_CONSUMER, ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.New, filter_subject: allEventsSubject(PREFIX) }),
      ).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
      await expect(
        intruder.request(
          `$JS.API.CONSUMER.DURABLE.CREATE.${STREAM}.${PROJECTOR_CONSUMER}`,
          encodeJson({ stream_name: STREAM, config: { durable_name: PROJECTOR_CONSUMER, ack_policy: 'none', deliver_policy: 'new' } }),
          { timeout: 3000 },
        ),
      ).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
      await expect(jsm.consumers.delete(STREAM, PROJECTOR_CONSUMER)).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });

      expect(await projectorState()).toEqual(before);
    });

    /** The legacy ephemeral create (`$JS.API.CONSUMER.CREATE.KEYS`, no name in the subject) with the projector's own config. */
    const legacyCreate = (conn: NatsConnection, naming: { name?: string; durable_name?: string }) =>
      conn.request(
        `$JS.API.CONSUMER.CREATE.${STREAM}`,
        encodeJson({
          stream_name: STREAM,
          config: { ...naming, description: 'taken over', ack_policy: 'explicit', deliver_policy: 'all', filter_subject: allEventsSubject(PREFIX), max_deliver: 1 },
        }),
        { timeout: 3000 },
      );

    it('refuses the gateway the legacy ephemeral create, whatever name it asks for', async () => {
      const before = await projectorState();
      await expect(legacyCreate(nc.gateway, { name: PROJECTOR_CONSUMER })).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
      expect(await projectorState()).toEqual(before);
    });

    it('refuses the verifier the legacy ephemeral create, whatever name or durable it asks for', async () => {
      const before = await projectorState();
      for (const naming of [{ durable_name: PROJECTOR_CONSUMER }, { name: 'verifier-legacy' }, {}]) {
        await expect(legacyCreate(nc.verifier, naming)).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
      }
      expect(await projectorState()).toEqual(before);
    });

    it('still lets the projector acknowledge what it holds', async () => {
      expect(await pending.ackAck()).toBe(true);
      expect((await projectorState()).ackFloor).toBe(pending.seq);
    });

    // The legacy ephemeral create names the consumer in the body, where no subject permission can see it, and
    // NATS treats an existing name as an update: the verifier names its consumers, so it has no use for it.
    it('refuses the verifier an update of the projector consumer through the legacy ephemeral create, naming it in the body', async () => {
      const before = await projectorState();
      await expect(legacyCreate(nc.verifier, { name: PROJECTOR_CONSUMER })).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
      expect(await projectorState()).toEqual(before);
    });
  });

  describe("attack: reading another user's inbox", () => {
    it.each(NATS_USERS)('refuses the %s user a subscription to any inbox but its own', async (user) => {
      for (const other of NATS_USERS.filter((u) => u !== user)) {
        const subject = `${inboxPrefixOf(other)}.>`;
        expect(await subscriptionRefusal(nc[user], subject)).toContain(`Permissions Violation for Subscription to "${subject}"`);
      }
      // The default inbox prefix, where every requester's answers used to be readable by everyone.
      expect(await subscriptionRefusal(nc[user], '_INBOX.>')).toContain('Permissions Violation for Subscription to "_INBOX.>"');
    });

    it("refuses a connection that borrows another user's inbox prefix: its requests get no answer", async () => {
      const borrower = await connect('gateway', { inboxPrefix: inboxPrefixOf('command') });
      await expect(borrower.request(verifySubject(PREFIX), encodeJson({ key: 'ms-x', scope: 'proxy' }), { timeout: 1000 })).rejects.toBeDefined();
    });
  });
});
