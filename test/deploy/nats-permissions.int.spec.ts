import { AckPolicy, type JetStreamManager, type NatsConnection } from 'nats';
import { VERIFIER_QUEUE_GROUP, allEventsSubject, decodeJson, encodeJson, ensureKeyStream, eventSubject, verifySubject } from '@keys/bus';
import { waitFor } from '@keys/testing';
import { type DeployNats, type NatsUser, startDeployNats } from './deploy-nats.fixture';

// deploy/nats.conf is the production NATS config: one user per app, least privilege. This file runs it
// in a private nats-server (the permissions are the subject under test, so it does not use the shared
// test NATS or createTestContext; there is no database involved) with the production stream and subject
// names, and proves the flows the apps need work while the forbidden ones are refused by the server.

const STREAM = 'KEYS';
const PREFIX = 'keys.v1';

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

describe('deploy/nats.conf permissions', () => {
  let nats: DeployNats;
  const nc = {} as Record<NatsUser, NatsConnection>;
  // Asynchronous "Permissions Violation" errors the server sent each connection (nats.js reports only
  // the error code there; the subject shows in the rejected request's or subscription's own error).
  const violations = {} as Record<NatsUser, number>;
  let commandJsm: JetStreamManager;

  beforeAll(async () => {
    nats = await startDeployNats();
    for (const user of ['command', 'verifier', 'projector', 'gateway'] as const) {
      nc[user] = await nats.connectAs(user);
      violations[user] = 0;
      void (async () => {
        for await (const status of nc[user].status()) {
          if (status.type === 'error' && status.data === 'PERMISSIONS_VIOLATION') violations[user] += 1;
        }
      })();
    }
    // The command creates the stream on start with the real code path, under its own permissions.
    commandJsm = await nc.command.jetstreamManager();
    await ensureKeyStream(commandJsm, { streamName: STREAM, subjectPrefix: PREFIX });
    const ack = await nc.command.jetstream().publish(eventSubject(PREFIX, 1, 'KeyCreated'), encodeJson(KEY_CREATED), { msgID: KEY_CREATED.eventId });
    expect(ack).toMatchObject({ stream: STREAM, seq: 1, duplicate: false });
  });

  afterAll(async () => {
    await nats?.stop();
  });

  const streamMessages = async () => (await commandJsm.streams.info(STREAM)).state.messages;
  /** Runs `act` and waits for the server to report one more permission violation to `user`. */
  const refused = async (user: NatsUser, act: () => void) => {
    const before = violations[user];
    act();
    await nc[user].flush();
    await waitFor(() => violations[user] > before);
  };

  it('lets the command publish key events, acknowledged by the stream', async () => {
    const ack = await nc.command.jetstream().publish(eventSubject(PREFIX, 1, 'KeyRenamed'), encodeJson({ ...KEY_CREATED, type: 'KeyRenamed' }), {
      msgID: 'renamed-1',
    });
    expect(ack.seq).toBeGreaterThan(1);
    expect(violations.command).toBe(0);
  });

  it.each(['gateway', 'verifier', 'projector'] as const)('refuses a fake key event from the %s user; nothing lands in the stream', async (user) => {
    const before = await streamMessages();
    const subject = eventSubject(PREFIX, 1, 'KeyReactivated');

    await expect(nc[user].jetstream().publish(subject, encodeJson({ ...KEY_CREATED, type: 'KeyReactivated' }), { timeout: 3000 })).rejects.toMatchObject({
      code: 'PERMISSIONS_VIOLATION',
    });
    // Plain core publish too (what a hand-rolled client would try): dropped by the server.
    await refused(user, () => nc[user].publish(eventSubject(PREFIX, 2, 'KeyDeleted'), encodeJson({ ...KEY_CREATED, type: 'KeyDeleted' })));

    expect(await streamMessages()).toBe(before);
  });

  it('refuses the gateway a subscription on keys.v1.verify, so it can never answer a verification', async () => {
    const subject = verifySubject(PREFIX);
    let answered = 0;
    let refusal: Error | null = null;
    const impostor = nc.gateway.subscribe(subject, {
      callback: (err, msg) => {
        if (err) {
          refusal = err;
          return;
        }
        answered += 1;
        msg.respond(encodeJson({ valid: true, code: 'VALID', status: 200 }));
      },
    });
    await nc.gateway.flush();
    await waitFor(() => impostor.isClosed());
    expect(String(refusal)).toContain(`Permissions Violation for Subscription to "${subject}"`);

    // With no verifier running, a request finds nobody: the gateway's subscription never reached the server.
    const request = nc.command.request(subject, encodeJson({ key: 'ms-whatever', scope: 'proxy' }), { timeout: 2000 });
    await expect(request).rejects.toMatchObject({ code: '503' });
    expect(answered).toBe(0);
  });

  it('lets the verifier answer verification requests from the gateway and the command, and nothing else on _INBOX', async () => {
    const subject = verifySubject(PREFIX);
    const verifier = nc.verifier.subscribe(subject, {
      queue: VERIFIER_QUEUE_GROUP,
      callback: (err, msg) => {
        if (!err) msg.respond(encodeJson({ valid: false, code: 'NOT_FOUND', status: 401 }));
      },
    });
    await nc.verifier.flush();
    try {
      for (const requester of ['gateway', 'command'] as const) {
        const reply = await nc[requester].request(subject, encodeJson({ key: 'ms-whatever', scope: 'proxy' }), { timeout: 3000 });
        expect(decodeJson(reply.data)).toEqual({ valid: false, code: 'NOT_FOUND', status: 401 });
      }
      // allow_responses: it may reply to what it was asked, not write into someone's inbox unasked.
      await refused('verifier', () => nc.verifier.publish('_INBOX.somebody-else.1', encodeJson({ valid: true, code: 'VALID', status: 200 })));
    } finally {
      verifier.unsubscribe();
    }
  });

  it.each(['verifier', 'projector', 'gateway'] as const)('lets the %s user follow the key events with an ordered consumer', async (user) => {
    const consumer = await nc[user].jetstream().consumers.get(STREAM, { filterSubjects: allEventsSubject(PREFIX) });
    const first = await consumer.next({ expires: 3000 });
    expect(first && decodeJson(first.data)).toMatchObject({ eventId: KEY_CREATED.eventId, type: 'KeyCreated' });
  });

  it('lets the projector keep a durable consumer and acknowledge what it applied', async () => {
    const jsm = await nc.projector.jetstreamManager();
    await jsm.consumers.add(STREAM, { durable_name: 'projector', ack_policy: AckPolicy.Explicit, filter_subject: allEventsSubject(PREFIX) });
    const consumer = await nc.projector.jetstream().consumers.get(STREAM, 'projector');
    const message = await consumer.next({ expires: 3000 });
    expect(message?.seq).toBe(1);
    expect(await message?.ackAck()).toBe(true);
    expect((await consumer.info()).ack_floor.stream_seq).toBe(1);
  });

  it('refuses the gateway stream and consumer administration: no purge, no deleting the projector consumer', async () => {
    const before = await streamMessages();
    const jsm = await nc.gateway.jetstreamManager();
    await expect(jsm.streams.purge(STREAM)).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
    await expect(jsm.streams.delete(STREAM)).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
    // The projector's durable consumer is created by the test above.
    await expect(jsm.consumers.delete(STREAM, 'projector')).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
    expect(await streamMessages()).toBe(before);
    const projectorJsm = await nc.projector.jetstreamManager();
    expect((await projectorJsm.consumers.info(STREAM, 'projector')).ack_floor.stream_seq).toBe(1);
  });
});
