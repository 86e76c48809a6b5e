import type { Msg, NatsConnection } from 'nats';
import { generateKey } from '@keys/key-material';
import { type IndexableEvent, VerifierIndex } from './verifier-index';
import { VerifyMessageController } from './verify.message.controller';

/** Drives the controller through its subscription callback, as NATS would, and returns the answer bytes as JSON. */
function harness() {
  const index = new VerifierIndex();
  const controller = new VerifyMessageController(index, 'test.keys.v1');
  let callback!: (err: null, msg: Msg) => void;
  const nc = {
    subscribe: (_subject: string, options: { callback: typeof callback }) => {
      callback = options.callback;
      return { isClosed: () => false };
    },
  } as unknown as NatsConnection;
  controller.listen(nc);
  const ask = (key: string, scope = 'proxy'): unknown => {
    let answer: Uint8Array | undefined;
    const msg = { data: new TextEncoder().encode(JSON.stringify({ key, scope })), respond: (bytes: Uint8Array) => ((answer = bytes), true) } as unknown as Msg;
    callback(null, msg);
    if (!answer) throw new Error('no answer');
    return JSON.parse(new TextDecoder().decode(answer));
  };
  return { index, ask };
}

describe('VerifyMessageController answers', () => {
  it('never serves a stale VALID answer: each change to the key shows in the next answer', () => {
    const { index, ask } = harness();
    const material = generateKey('proxy');
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    const events: IndexableEvent[] = [
      { position: 1, type: 'KeyCreated', data: { keyId: 5, accountId: 2, keyType: 'proxy', name: 'First', prefix: material.prefix, hash: material.hash, expiresAt: null } },
    ];
    events.forEach((e) => index.apply(e));
    const identity = { id: 5, accountId: 2, type: 'proxy', prefix: material.key.slice(0, 8) };
    expect(ask(material.key)).toEqual({ valid: true, code: 'VALID', status: 200, key: { ...identity, name: 'First', expiresAt: null } });
    expect(ask(material.key)).toEqual({ valid: true, code: 'VALID', status: 200, key: { ...identity, name: 'First', expiresAt: null } });
    index.apply({ position: 2, type: 'KeyRenamed', data: { keyId: 5, name: 'Second' } });
    expect(ask(material.key)).toEqual({ valid: true, code: 'VALID', status: 200, key: { ...identity, name: 'Second', expiresAt: null } });
    index.apply({ position: 3, type: 'KeyExpirySet', data: { keyId: 5, expiresAt } });
    expect(ask(material.key)).toEqual({ valid: true, code: 'VALID', status: 200, key: { ...identity, name: 'Second', expiresAt } });
    expect(ask(material.key, 'billing')).toEqual({ valid: false, code: 'WRONG_TYPE', status: 403 });
    index.apply({ position: 4, type: 'KeyDeactivated', data: { keyId: 5 } });
    expect(ask(material.key)).toEqual({ valid: false, code: 'INACTIVE', status: 403 });
    index.apply({ position: 5, type: 'KeyReactivated', data: { keyId: 5 } });
    expect(ask(material.key)).toEqual({ valid: true, code: 'VALID', status: 200, key: { ...identity, name: 'Second', expiresAt } });
    index.apply({ position: 6, type: 'KeyDeleted', data: { keyId: 5 } });
    expect(ask(material.key)).toEqual({ valid: false, code: 'DELETED', status: 401 });
  });

  it('judges expiry at request time even when the VALID answer is cached', () => {
    const { index, ask } = harness();
    const material = generateKey('proxy');
    const expiresAt = new Date(Date.now() + 300).toISOString();
    index.apply({ position: 1, type: 'KeyCreated', data: { keyId: 1, accountId: 1, keyType: 'proxy', name: 'k', prefix: material.prefix, hash: material.hash, expiresAt } });
    expect(ask(material.key)).toMatchObject({ code: 'VALID' });
    const realNow = Date.now;
    try {
      Date.now = () => Date.parse(expiresAt);
      expect(ask(material.key)).toEqual({ valid: false, code: 'EXPIRED', status: 401 });
    } finally {
      Date.now = realNow;
    }
  });

  it('answers NOT_FOUND, MALFORMED and BAD_REQUEST', () => {
    const { ask } = harness();
    expect(ask(generateKey('proxy').key)).toEqual({ valid: false, code: 'NOT_FOUND', status: 401 });
    expect(ask('ms-nope')).toEqual({ valid: false, code: 'MALFORMED', status: 401 });
    expect(ask(generateKey('proxy').key, 'other')).toEqual({ valid: false, code: 'BAD_REQUEST', status: 400 });
  });

  it('answers MALFORMED for a key of the right length that is not well formed, also one a character away from a stored key', () => {
    const { index, ask } = harness();
    const material = generateKey('proxy');
    index.apply({ position: 1, type: 'KeyCreated', data: { keyId: 1, accountId: 1, keyType: 'proxy', name: 'k', prefix: material.prefix, hash: material.hash, expiresAt: null } });
    const key = material.key;
    const changedAt = (i: number, c: string) => key.slice(0, i) + c + key.slice(i + 1);
    const other = (c: string) => (c === 'A' ? 'B' : 'A');
    expect(ask(key)).toMatchObject({ code: 'VALID' });
    // The checksum no longer matches the body.
    expect(ask(changedAt(10, other(key[10])))).toEqual({ valid: false, code: 'MALFORMED', status: 401 });
    expect(ask(changedAt(key.length - 1, other(key[key.length - 1])))).toEqual({ valid: false, code: 'MALFORMED', status: 401 });
    // Outside the alphabet, and another type prefix.
    expect(ask(changedAt(10, '_'))).toEqual({ valid: false, code: 'MALFORMED', status: 401 });
    expect(ask(`xx-${key.slice(3)}`)).toEqual({ valid: false, code: 'MALFORMED', status: 401 });
    // Well formed, never issued.
    expect(ask(generateKey('billing').key, 'billing')).toEqual({ valid: false, code: 'NOT_FOUND', status: 401 });
  });
});

describe('VerifyMessageController metrics', () => {
  const counted = async (code: string): Promise<number> => {
    const { register } = await import('prom-client');
    const metric = (await register.getSingleMetric('keys_verifications_total')?.get())?.values.find((v) => v.labels.code === code);
    return metric?.value ?? 0;
  };
  const durationCount = async (): Promise<number> => {
    const { register } = await import('prom-client');
    return (await register.getSingleMetric('keys_verify_duration_seconds')?.get())?.values.find((v) => (v as { metricName?: string }).metricName === 'keys_verify_duration_seconds_count')?.value ?? 0;
  };

  it('counts every answer by code at scrape time, and times a uniform sample of them (every 16th)', async () => {
    const { index, ask } = harness();
    const material = generateKey('proxy');
    index.apply({ position: 1, type: 'KeyCreated', data: { keyId: 1, accountId: 1, keyType: 'proxy', name: 'k', prefix: material.prefix, hash: material.hash, expiresAt: null } });
    const [valid, notFound, timed] = [await counted('VALID'), await counted('NOT_FOUND'), await durationCount()];
    for (let i = 0; i < 48; i++) ask(material.key);
    for (let i = 0; i < 16; i++) ask(generateKey('proxy').key);
    expect(await counted('VALID')).toBe(valid + 48);
    expect(await counted('NOT_FOUND')).toBe(notFound + 16);
    // Counted once: a second scrape adds nothing.
    expect(await counted('VALID')).toBe(valid + 48);
    expect(await durationCount()).toBe(timed + 4);
  });
});
