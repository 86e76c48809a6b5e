import type { NatsConnection, Subscription } from 'nats';
import { decodeJson, encodeJson } from './envelope-codec';

// Read-your-writes for verification (docs/verification.md, "Consistency with writes"): verifiers say how far
// they have applied the event store; a writer waits until every serving verifier has applied its write before
// answering, and orders the ones that did not to stop serving until they have.

/** Verifiers announce themselves here: after every applied batch, and as a heartbeat. */
export const verifierAppliedSubject = (prefix: string): string => `${prefix}.verifier.applied`;
/** Writers order verifiers behind a position out of service here. */
export const verifierFenceSubject = (prefix: string): string => `${prefix}.verifier.fence`;

/** What a verifier instance says about itself. */
export interface VerifierAnnouncement {
  /** Random per process start. */
  instance: string;
  /** Highest event-store position in its index. */
  applied: number;
  /** Member of the verify queue group (or about to be: see the verifier's join protocol). */
  serving: boolean;
}

/** "Every verifier that has not applied `position` must stop answering until it has." */
export interface FenceOrder {
  position: number;
}

export function parseAnnouncement(data: Uint8Array): VerifierAnnouncement | null {
  const value = tryDecode(data) as Partial<VerifierAnnouncement> | null;
  if (!value || typeof value !== 'object') return null;
  const { instance, applied, serving } = value;
  if (typeof instance !== 'string' || instance.length === 0 || instance.length > 64) return null;
  if (typeof applied !== 'number' || !Number.isSafeInteger(applied) || applied < 0 || typeof serving !== 'boolean') return null;
  return { instance, applied, serving };
}

export function parseFence(data: Uint8Array): FenceOrder | null {
  const value = tryDecode(data) as Partial<FenceOrder> | null;
  const position = value && typeof value === 'object' ? value.position : undefined;
  return typeof position === 'number' && Number.isSafeInteger(position) && position > 0 ? { position } : null;
}

export const encodeAnnouncement = (announcement: VerifierAnnouncement): Uint8Array => encodeJson(announcement);
export const encodeFence = (fence: FenceOrder): Uint8Array => encodeJson(fence);

function tryDecode(data: Uint8Array): unknown {
  try {
    return decodeJson(data);
  } catch {
    return null;
  }
}

/** How many liveness windows a silent instance is remembered. */
const FORGET_AFTER_LIVENESS = 10;

interface InstanceState {
  applied: number;
  serving: boolean;
  seenAtMs: number;
}

/**
 * Which verifier instances serve and how far each has applied, from their announcements. Pure: time comes in.
 * An instance not heard from for `livenessMs` is gone (it stops answering by itself when it cannot announce:
 * see the verifier's stall rule).
 */
export class VerifierRoster {
  private readonly instances = new Map<string, InstanceState>();

  constructor(private readonly livenessMs: number) {}

  observe(announcement: VerifierAnnouncement, nowMs: number): void {
    const known = this.instances.get(announcement.instance);
    // Announcements of one instance can overtake each other; its applied position never goes back.
    const applied = Math.max(known?.applied ?? 0, announcement.applied);
    this.instances.set(announcement.instance, { applied, serving: announcement.serving, seenAtMs: nowMs });
  }

  /** Serving, live instances that have not applied `position`. */
  behind(position: number, nowMs: number): string[] {
    const out: string[] = [];
    for (const [instance, state] of this.instances) {
      if (nowMs - state.seenAtMs > this.livenessMs) {
        // Kept a while: a writer waiting for it must not mistake its silence for a confirmation.
        if (nowMs - state.seenAtMs > FORGET_AFTER_LIVENESS * this.livenessMs) this.instances.delete(instance);
        continue;
      }
      if (state.serving && state.applied < position) out.push(instance);
    }
    return out;
  }

  /** Whether `instance` has applied `position`, or said it left the queue group (silence is neither). */
  settled(instance: string, position: number): boolean {
    const state = this.instances.get(instance);
    return state !== undefined && (state.applied >= position || !state.serving);
  }

  /** Serving, live instances. */
  serving(nowMs: number): number {
    let n = 0;
    for (const state of this.instances.values()) if (state.serving && nowMs - state.seenAtMs <= this.livenessMs) n++;
    return n;
  }
}

/**
 * How a write's propagation to verification ended:
 * - `confirmed`: every serving verifier has applied it (vacuously when none serves);
 * - `fenced`: some did not within the timeout; they were ordered out of service until they have;
 * - `unconfirmed`: this process cannot see the verifiers (NATS away); they still apply the write from the
 *   store, and a verifier that cannot do so stops answering by itself within its stall bound.
 */
export type PropagationOutcome = 'confirmed' | 'fenced' | 'unconfirmed';

export interface VerifierPropagationOptions {
  subjectPrefix: string;
  /** Longest wait for confirmations before fencing (VERIFY_PROPAGATION_TIMEOUT_MS); 0 does not wait at all. */
  timeoutMs: number;
  /** An instance not heard from for this long is gone (VERIFIER_LIVENESS_MS). */
  livenessMs: number;
}

interface Waiter {
  position: number;
  /** The instances that were behind when the wait began and have not settled since. */
  pending: Set<string>;
  done(confirmed: boolean): void;
}

/**
 * The writer's side: keeps the roster from the verifiers' announcements and, for a committed write at
 * position P, waits until every serving verifier has applied P (bounded), then fences the ones that have not.
 * The fence is published and flushed before `confirm` returns, so it reaches each verifier before any request
 * sent after the write's answer (NATS keeps the order of what one server delivers on one connection).
 */
export class VerifierPropagation {
  private readonly roster: VerifierRoster;
  private readonly waiters = new Set<Waiter>();
  private subscription: Subscription | null = null;
  private listeningSinceMs = 0;

  constructor(
    private readonly connection: () => NatsConnection | null,
    private readonly options: VerifierPropagationOptions,
  ) {
    this.roster = new VerifierRoster(options.livenessMs);
  }

  /** Starts listening to the announcements; the subscription survives reconnects. */
  attach(nc: NatsConnection): void {
    if (this.subscription) return;
    this.listeningSinceMs = Date.now();
    this.subscription = nc.subscribe(verifierAppliedSubject(this.options.subjectPrefix), {
      callback: (err, msg) => {
        if (err) return;
        const announcement = parseAnnouncement(msg.data);
        if (announcement) this.observe(announcement);
      },
    });
  }

  /** Serving verifiers this process knows of now. */
  servingVerifiers(): number {
    return this.roster.serving(Date.now());
  }

  async confirm(position: number): Promise<PropagationOutcome> {
    if (this.options.timeoutMs === 0) return 'unconfirmed'; // waiting switched off
    const nc = this.connection();
    if (!nc || nc.isClosed() || !this.subscription) return 'unconfirmed';
    // Right after start the roster has not heard every verifier yet: wait one liveness window (once).
    const warmUpMs = this.listeningSinceMs + this.options.livenessMs - Date.now();
    if (warmUpMs > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(warmUpMs, this.options.timeoutMs)));
    const behind = this.roster.behind(position, Date.now());
    if (behind.length === 0) return 'confirmed';
    // Instances that join meanwhile need no wait: they read the store after joining (see the verifier's join).
    const confirmed = await new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        position,
        pending: new Set(behind),
        done: (ok) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(ok);
        },
      };
      const timer = setTimeout(() => waiter.done(false), this.options.timeoutMs);
      this.waiters.add(waiter);
    });
    if (confirmed) return 'confirmed';
    try {
      nc.publish(verifierFenceSubject(this.options.subjectPrefix), encodeFence({ position }));
      await nc.flush();
      return 'fenced';
    } catch {
      return 'unconfirmed';
    }
  }

  close(): void {
    for (const waiter of [...this.waiters]) waiter.done(false);
    this.subscription?.unsubscribe();
    this.subscription = null;
  }

  private observe(announcement: VerifierAnnouncement): void {
    this.roster.observe(announcement, Date.now());
    for (const waiter of [...this.waiters]) {
      if (!waiter.pending.has(announcement.instance) || !this.roster.settled(announcement.instance, waiter.position)) continue;
      waiter.pending.delete(announcement.instance);
      if (waiter.pending.size === 0) waiter.done(true);
    }
  }
}
