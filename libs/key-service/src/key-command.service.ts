import type { Kysely } from 'kysely';
import {
  type AccountEvent,
  type AccountState,
  type CreateAccount,
  DomainError,
  type EventEnvelope,
  type ExistingKeyState,
  type KeyCommand,
  type KeyEvent,
  type KeyState,
  type KeyType,
  type Recorded,
  accountDecider,
  accountStreamId,
  foldKey,
  keyDecider,
  keyStreamId,
} from '@keys/domain';
import { type AppendOptions, type Database, EventAppender, nextAccountId, nextKeyIds, readStream } from '@keys/event-store';
import { generateKey } from '@keys/key-material';
import { type AnyStreamCommand, type CommandStore, type StreamCommand, type StreamOutcome, type StreamOutcomes, handleCommand } from './handle-command';
import { IdBlock } from './id-block';
import { countUsableBillingKeys, findKeyByHash, keyLookupProjection } from './key-lookup.table';
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
  /** A creation always appends. */
  position: number;
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

/**
 * The application layer over handleCommand: every write of the HTTP command app, keysctl and the expiry sweep
 * takes this path, through the one group-commit appender, which keeps key_lookup in the append's transaction.
 */
export class KeyCommandService {
  private readonly mutex = new KeyedMutex();
  private readonly maxAttempts: number;
  private readonly clock: () => Date;
  private readonly keyIds: IdBlock;
  private readonly store: CommandStore;

  constructor(
    private readonly db: Kysely<Database>,
    appender: EventAppender,
    options: KeyCommandServiceOptions = {},
  ) {
    // Without it key_lookup (authentication, scoping, the billing-key check, the sweep) would fall behind silently.
    if (!appender.projects(keyLookupProjection)) throw new Error('the EventAppender must project key_lookup: use createKeyEventAppender');
    this.maxAttempts = options.maxAttempts ?? 8;
    this.clock = options.clock ?? (() => new Date());
    this.keyIds = new IdBlock((count) => nextKeyIds(this.db, count), 32);
    this.store = { readStream: (streamId) => readStream(this.db, streamId), appendAll: (requests, opts) => appender.appendAll(requests, opts) };
  }

  now(): string {
    return this.clock().toISOString();
  }

  /** AccountCreated and the account's first billing key, in one atomic append. */
  async createAccount(name: string, ctx: RequestContext, billingKeyName = 'Default billing key'): Promise<CreatedAccount> {
    const [accountId, keyId] = await Promise.all([nextAccountId(this.db), this.keyIds.next()]);
    const material = generateKey('billing');
    const { streams, position } = await this.handle(ctx, (now) => [
      accountStream(accountId, { type: 'CreateAccount', accountId, name, now }),
      newKeyStream({ type: 'CreateKey', keyId, accountId, keyType: 'billing', name: billingKeyName, prefix: material.prefix, hash: material.hash, expiresAt: null, now }),
    ]);
    const [, key] = streams;
    return { accountId, position: appended(position), billingKey: { key: material.key, state: existing(key.state), position: appended(position), events: key.events } };
  }

  async createKey(input: { accountId: number; keyType: KeyType; name: string; expiresAt: string | null }, ctx: RequestContext): Promise<IssuedKey> {
    const keyId = await this.keyIds.next();
    const material = generateKey(input.keyType);
    const { streams, position } = await this.handle(ctx, (now) => [
      newKeyStream({ type: 'CreateKey', keyId, ...input, prefix: material.prefix, hash: material.hash, now }),
    ]);
    return { key: material.key, state: existing(streams[0].state), position: appended(position), events: streams[0].events };
  }

  /**
   * Applies the commands `plan` builds from the key's current state. A key outside `scope` is reported as
   * not found, exactly like a missing one. Retries on a concurrent append with fresh state.
   */
  async changeKey(keyId: number, scope: KeyScope | null, plan: PlanChange, ctx: RequestContext): Promise<KeyChange> {
    return this.mutex.run(keyStreamId(keyId), async () => {
      const { streams, position } = await this.handle(
        ctx,
        (now) => [keyStream(keyId, (state) => plan(visible(state, scope), now))],
        ([key]) => key,
      );
      return { state: existing(streams[0].state), position, events: streams[0].events };
    });
  }

  /**
   * Rotation: a new key with the same name, type and account; the old key expires after `overlapSeconds`
   * (never later than its own expiry; 0 expires it now). Both streams change in one atomic append.
   */
  async rollKey(keyId: number, scope: KeyScope, overlapSeconds: number, ctx: RequestContext): Promise<IssuedKey & { old: KeyChange }> {
    return this.mutex.run(keyStreamId(keyId), async () => {
      const issued = { key: '' };
      const { streams, position } = await this.handle(
        ctx,
        async (now) => {
          // Read once: the new key copies the old one, and the retirement is decided on the same state.
          const stored = await readStream(this.db, keyStreamId(keyId));
          const old = visibleKey(stored, scope);
          const newKeyId = await this.keyIds.next();
          const material = generateKey(old.keyType);
          issued.key = material.key;
          const retireAt = new Date(Date.parse(now) + overlapSeconds * 1000).toISOString();
          return [
            newKeyStream({ type: 'CreateKey', keyId: newKeyId, accountId: old.accountId, keyType: old.keyType, name: old.name, prefix: material.prefix, hash: material.hash, expiresAt: null, now }),
            keyStream(keyId, () => [{ type: 'RetireKey', keyId, expiresAt: retireAt, now }], stored),
          ];
        },
        ([, old]) => old,
      );
      const [created, old] = streams;
      return {
        key: issued.key,
        state: existing(created.state),
        position: appended(position),
        events: created.events,
        old: { state: existing(old.state), position: old.events.length ? position : null, events: old.events },
      };
    });
  }

  /** The id of the key with this SHA-256 hash (any account, deleted ones included), or null. */
  async keyIdOfHash(hash: string): Promise<number | null> {
    return (await findKeyByHash(this.db, hash))?.key_id ?? null;
  }

  /** Current state and stream version of a key the scope may see; otherwise key_not_found. */
  async load(keyId: number, scope: KeyScope | null): Promise<{ state: ExistingKeyState; version: number }> {
    const stored = await readStream(this.db, keyStreamId(keyId));
    return { state: visibleKey(stored, scope), version: stored.length ? stored[stored.length - 1].streamVersion : 0 };
  }

  /**
   * Runs handleCommand with this service's store, clock and retry budget. `billingCheck` picks the outcome
   * of the key whose change may take away the account's last usable billing key.
   */
  private handle<const T extends readonly AnyStreamCommand[]>(
    ctx: RequestContext,
    plan: (now: string) => T | Promise<T>,
    billingCheck?: (outcomes: StreamOutcomes<T>) => StreamOutcome<KeyState>,
  ) {
    return handleCommand(this.store, plan, {
      metadata: toMetadata(ctx),
      clock: () => this.now(),
      maxAttempts: this.maxAttempts,
      afterAppend: billingCheck && ((outcomes, now) => this.billingAccessCheck(billingCheck(outcomes), now)),
    });
  }

  /**
   * Deactivating or deleting a usable billing key must leave the account another one. Runs after key_lookup
   * holds the change; appends are serialized by the store's lock, so the count cannot race. Expiry is a fact of
   * time, not a request, so it is never refused (an account can end up with only expired billing keys).
   */
  private billingAccessCheck({ before, state }: StreamOutcome<KeyState>, now: string): AppendOptions['afterAppend'] {
    if (!before.exists || !state.exists) return undefined;
    // Revoking is never refused, even of the last billing key: a leaked key must stop working whatever it costs.
    if (state.revocation) return undefined;
    const removes = state.keyType === 'billing' && before.active && !before.deleted && !state.expired && (!state.active || state.deleted);
    if (!removes) return undefined;
    return async (trx) => {
      if ((await countUsableBillingKeys(trx, state.accountId, now)) === 0) {
        throw new DomainError('last_billing_key', 'The last active billing key of an account cannot be deleted or deactivated.');
      }
    };
  }
}

/** Open a key service's appender with this: it keeps key_lookup in every append's transaction. */
export function createKeyEventAppender(db: Kysely<Database>, options: { maxBatchSize?: number } = {}): EventAppender {
  return new EventAppender(db, { ...options, inlineProjections: [keyLookupProjection] });
}

const keyEventOf = (envelope: EventEnvelope): Recorded<KeyEvent> | null => (envelope.type === 'AccountCreated' ? null : envelope);
const accountEventOf = (envelope: EventEnvelope): Recorded<AccountEvent> | null => (envelope.type === 'AccountCreated' ? envelope : null);

function keyStream(keyId: number, commands: (state: KeyState) => KeyCommand[], stored?: readonly EventEnvelope[]): StreamCommand<KeyState, KeyCommand, KeyEvent> {
  return { streamId: keyStreamId(keyId), decider: keyDecider, eventOf: keyEventOf, accountOf: (s) => (s.exists ? s.accountId : null), stored, commands };
}

/** A key under a freshly drawn id: nothing to read, nothing to conflict with. */
function newKeyStream(command: Extract<KeyCommand, { type: 'CreateKey' }>): StreamCommand<KeyState, KeyCommand, KeyEvent> {
  return keyStream(command.keyId, () => [command], []);
}

function accountStream(accountId: number, command: CreateAccount): StreamCommand<AccountState, CreateAccount, AccountEvent> {
  return {
    streamId: accountStreamId(accountId),
    decider: accountDecider,
    eventOf: accountEventOf,
    accountOf: () => accountId,
    stored: [],
    commands: () => [command],
  };
}

/** The key, if it exists and the scope may see it; otherwise key_not_found (a key of another account looks missing). */
function visible(state: KeyState, scope: KeyScope | null): ExistingKeyState {
  if (!state.exists || (scope && (state.accountId !== scope.accountId || state.keyType !== scope.keyType))) {
    throw new DomainError('key_not_found', 'No such key in this account.');
  }
  return state;
}

function visibleKey(stored: readonly EventEnvelope[], scope: KeyScope | null): ExistingKeyState {
  return visible(foldKey(stored.flatMap((e) => keyEventOf(e) ?? [])), scope);
}

/** A state the decision left existing (a created or changed key): the decider never deletes a stream's state. */
function existing(state: KeyState): ExistingKeyState {
  if (!state.exists) throw new Error('a decided key has no state');
  return state;
}

/** The position of a command that always appends (a creation). */
function appended(position: number | null): number {
  if (position === null) throw new Error('a creation appended nothing');
  return position;
}
