import type { Transaction } from 'kysely';
import {
  type DomainEvent,
  DomainError,
  type EventEnvelope,
  type ExistingKeyState,
  type KeyCommand,
  type KeyEvent,
  type KeyState,
  type KeyType,
  accountStreamId,
  decideAccount,
  decideKey,
  evolveKey,
  initialAccountState,
  initialKeyState,
  keyStreamId,
} from '@keys/domain';
import {
  type Database,
  type EventAppender,
  appendToStream,
  nextAccountId,
  nextKeyIds,
  readStream,
  StreamVersionConflictError,
} from '@keys/event-store';
import { generateKey } from '@keys/key-material';
import { type CommandDb, type CommandTrx, countUsableBillingKeys, keyIndexRow, upsertKeyIndex } from './key-index.table';
import { ConcurrentUpdateError } from './key-service.errors';
import { IdBlock } from './id-block';
import { KeyedMutex } from './keyed-mutex';
import { type RequestContext, toMetadata } from './request-context';

/** The caller's reach: its account, and which kind of key the route manages. Null = operator/system. */
export interface KeyScope {
  accountId: number;
  keyType: KeyType;
}

export interface KeyChange {
  state: ExistingKeyState;
  /** Position of the last appended event, or null when the change decided nothing. */
  position: number | null;
  events: EventEnvelope[];
}

export interface IssuedKey extends KeyChange {
  /** The full key: returned to the caller once, stored nowhere. */
  key: string;
}

export interface CreatedAccount {
  accountId: number;
  billingKey: IssuedKey;
  position: number;
}

export interface KeyCommandServiceOptions {
  /** Attempts on a stream version conflict before giving up with ConcurrentUpdateError. */
  maxAttempts?: number;
  clock?: () => Date;
}

/** Builds the commands for a change, given the key's current state and the time of the request. */
export type PlanChange = (state: ExistingKeyState, now: string) => KeyCommand[];

const asStore = (trx: CommandTrx): Transaction<Database> => trx as unknown as Transaction<Database>;

/**
 * The application layer: loads a key's events, asks the pure decider, appends the decision with the
 * stream version it was based on, and keeps `key_index` in the same transaction. Shared by the HTTP
 * command app, keysctl and the expiry sweep, so every write takes the same path.
 */
export class KeyCommandService {
  private readonly mutex = new KeyedMutex();
  private readonly maxAttempts: number;
  private readonly clock: () => Date;
  private readonly keyIds: IdBlock;

  constructor(
    private readonly db: CommandDb,
    private readonly appender: EventAppender,
    options: KeyCommandServiceOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 8;
    this.clock = options.clock ?? (() => new Date());
    this.keyIds = new IdBlock((count) => nextKeyIds(this.db, count), 32);
  }

  now(): string {
    return this.clock().toISOString();
  }

  /** AccountCreated and the account's first billing key, in one transaction. */
  async createAccount(name: string, ctx: RequestContext, billingKeyName = 'Default billing key'): Promise<CreatedAccount> {
    const [accountId, keyId] = await Promise.all([nextAccountId(this.db), this.keyIds.next()]);
    const now = this.now();
    const metadata = toMetadata(ctx);
    const accountEvents = decideAccount({ type: 'CreateAccount', accountId, name, now }, initialAccountState());
    const material = generateKey('billing');
    const keyEvents = decideKey(
      { type: 'CreateKey', keyId, accountId, keyType: 'billing', name: billingKeyName, prefix: material.prefix, hash: material.hash, expiresAt: null, now },
      initialKeyState(),
    );
    const state = fold(initialKeyState(), keyEvents, now) as ExistingKeyState;
    const envelopes = await this.db.transaction().execute(async (trx) => {
      const account = await appendToStream(asStore(trx), {
        streamId: accountStreamId(accountId),
        expectedVersion: 0,
        accountId,
        events: accountEvents.map((e) => ({ ...e, metadata, occurredAt: now })),
      });
      const key = await appendToStream(asStore(trx), {
        streamId: keyStreamId(keyId),
        expectedVersion: 0,
        accountId,
        events: keyEvents.map((e) => ({ ...e, metadata, occurredAt: now })),
      });
      await upsertKeyIndex(trx, state, key.length);
      return [...account, ...key];
    });
    const keyEnvelopes = envelopes.filter((e) => e.streamId === keyStreamId(keyId));
    const position = envelopes[envelopes.length - 1].position;
    return { accountId, position, billingKey: { key: material.key, state, position, events: keyEnvelopes } };
  }

  async createKey(
    input: { accountId: number; keyType: KeyType; name: string; expiresAt: string | null },
    ctx: RequestContext,
  ): Promise<IssuedKey> {
    const keyId = await this.keyIds.next();
    const material = generateKey(input.keyType);
    const now = this.now();
    const events = decideKey(
      { type: 'CreateKey', keyId, accountId: input.accountId, keyType: input.keyType, name: input.name, prefix: material.prefix, hash: material.hash, expiresAt: input.expiresAt, now },
      initialKeyState(),
    );
    const state = fold(initialKeyState(), events, now) as ExistingKeyState;
    const envelopes = await this.appender.append(
      { streamId: keyStreamId(keyId), expectedVersion: 0, accountId: input.accountId, events: events.map((e) => ({ ...e, metadata: toMetadata(ctx), occurredAt: now })) },
      { keyIndex: [keyIndexRow(state, events.length)] },
    );
    return { key: material.key, state, position: envelopes[envelopes.length - 1].position, events: envelopes };
  }

  /**
   * Applies the commands `plan` builds from the key's current state. A key outside `scope` is reported as
   * not found, exactly like a missing one. Retries on a concurrent append with fresh state.
   */
  async changeKey(keyId: number, scope: KeyScope | null, plan: PlanChange, ctx: RequestContext): Promise<KeyChange> {
    const streamId = keyStreamId(keyId);
    return this.mutex.run(streamId, async () => {
      for (let attempt = 1; ; attempt++) {
        const { state, version } = await this.load(keyId, scope);
        const now = this.now();
        const events = decideAll(plan(state, now), state);
        if (events.length === 0) return { state, position: null, events: [] };
        const next = fold(state, events, now) as ExistingKeyState;
        try {
          const envelopes = await this.appender.append(
            { streamId, expectedVersion: version, accountId: state.accountId, events: events.map((e) => ({ ...e, metadata: toMetadata(ctx), occurredAt: now })) },
            {
              keyIndex: [keyIndexRow(next, version + events.length)],
              afterAppend: mayRemoveBillingAccess(state, next) ? (trx) => this.ensureBillingAccessRemains(trx, next, now) : undefined,
            },
          );
          return { state: next, position: envelopes[envelopes.length - 1].position, events: envelopes };
        } catch (err) {
          if (!(err instanceof StreamVersionConflictError)) throw err;
          if (attempt >= this.maxAttempts) throw new ConcurrentUpdateError(streamId);
        }
      }
    });
  }

  /**
   * Rotation: a new key with the same name, type and account; the old key expires after `overlapSeconds`
   * (never later than its own expiry; 0 expires it now). Both streams change in one transaction.
   */
  async rollKey(keyId: number, scope: KeyScope, overlapSeconds: number, ctx: RequestContext): Promise<IssuedKey & { old: KeyChange }> {
    const oldStream = keyStreamId(keyId);
    return this.mutex.run(oldStream, async () => {
      for (let attempt = 1; ; attempt++) {
        const { state, version } = await this.load(keyId, scope);
        const now = this.now();
        const retireAt = new Date(Date.parse(now) + overlapSeconds * 1000).toISOString();
        const oldEvents = decideKey({ type: 'RetireKey', keyId, expiresAt: retireAt, now }, state);
        const oldNext = fold(state, oldEvents, now) as ExistingKeyState;
        const newKeyId = await this.keyIds.next();
        const material = generateKey(state.keyType);
        const newEvents = decideKey(
          { type: 'CreateKey', keyId: newKeyId, accountId: state.accountId, keyType: state.keyType, name: state.name, prefix: material.prefix, hash: material.hash, expiresAt: null, now },
          initialKeyState(),
        );
        const newState = fold(initialKeyState(), newEvents, now) as ExistingKeyState;
        const metadata = toMetadata(ctx);
        try {
          const [oldEnvelopes, newEnvelopes] = await this.db.transaction().execute(async (trx) => {
            const created = await appendToStream(asStore(trx), {
              streamId: keyStreamId(newKeyId),
              expectedVersion: 0,
              accountId: state.accountId,
              events: newEvents.map((e) => ({ ...e, metadata, occurredAt: now })),
            });
            await upsertKeyIndex(trx, newState, newEvents.length);
            const retired = oldEvents.length
              ? await appendToStream(asStore(trx), {
                  streamId: oldStream,
                  expectedVersion: version,
                  accountId: state.accountId,
                  events: oldEvents.map((e) => ({ ...e, metadata, occurredAt: now })),
                })
              : [];
            if (retired.length) {
              await upsertKeyIndex(trx, oldNext, version + oldEvents.length);
              if (mayRemoveBillingAccess(state, oldNext)) await this.ensureBillingAccessRemains(trx, oldNext, now);
            }
            return [retired, created] as const;
          });
          const last = newEnvelopes[newEnvelopes.length - 1].position;
          const position = Math.max(last, oldEnvelopes.length ? oldEnvelopes[oldEnvelopes.length - 1].position : 0);
          return {
            key: material.key,
            state: newState,
            position,
            events: newEnvelopes,
            old: { state: oldNext, position: oldEnvelopes.length ? position : null, events: oldEnvelopes },
          };
        } catch (err) {
          if (!(err instanceof StreamVersionConflictError)) throw err;
          if (attempt >= this.maxAttempts) throw new ConcurrentUpdateError(oldStream);
        }
      }
    });
  }

  /** Current state and stream version of a key the scope may see; otherwise key_not_found. */
  async load(keyId: number, scope: KeyScope | null): Promise<{ state: ExistingKeyState; version: number }> {
    const stored = await readStream(this.db, keyStreamId(keyId));
    let state: KeyState = initialKeyState();
    for (const envelope of stored) state = evolveKey(state, envelope as unknown as KeyEvent, envelope.occurredAt);
    if (!state.exists || (scope && (state.accountId !== scope.accountId || state.keyType !== scope.keyType))) {
      throw new DomainError('key_not_found', 'No such key in this account.');
    }
    return { state, version: stored.length ? stored[stored.length - 1].streamVersion : 0 };
  }

  /** Runs after key_index holds the change; appends are serialized by the store's lock, so the count cannot race. */
  private async ensureBillingAccessRemains(trx: CommandTrx, state: ExistingKeyState, now: string): Promise<void> {
    if ((await countUsableBillingKeys(trx, state.accountId, now)) === 0) {
      throw new DomainError('last_billing_key', 'The last active billing key of an account cannot be deleted or deactivated.');
    }
  }
}

/**
 * Deactivating or deleting a usable billing key must leave the account another one. Expiry is a fact of
 * time, not a request, so it is never refused (an account can end up with only expired billing keys).
 */
function mayRemoveBillingAccess(before: ExistingKeyState, after: ExistingKeyState): boolean {
  return after.keyType === 'billing' && before.active && !before.deleted && !after.expired && (!after.active || after.deleted);
}

function decideAll(commands: KeyCommand[], state: KeyState): KeyEvent[] {
  const events: KeyEvent[] = [];
  let current = state;
  for (const command of commands) {
    const decided = decideKey(command, current);
    current = fold(current, decided);
    events.push(...decided);
  }
  return events;
}

function fold(state: KeyState, events: DomainEvent[], occurredAt?: string): KeyState {
  return (events as KeyEvent[]).reduce((s, e) => evolveKey(s, e, occurredAt), state);
}
