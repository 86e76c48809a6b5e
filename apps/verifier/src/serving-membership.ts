import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { Events, type NatsConnection, type Subscription } from 'nats';
import { type NatsHolder, encodeAnnouncement, parseFence, verifierAppliedSubject, verifierFenceSubject } from '@keys/bus';
import { ThrottledWarning, counter } from '@keys/platform';
import type { EventFollower } from '@keys/event-follower';
import type { VerifyMessageController } from './verify.message.controller';

export interface MembershipSettings {
  subjectPrefix: string;
  /** How often the instance announces itself and checks that it has not stalled (VERIFIER_HEARTBEAT_MS). */
  heartbeatMs: number;
  /**
   * Longest gap between two heartbeats before the instance counts as stalled (paused, starved): it then stops
   * answering until it has read the store again (VERIFIER_STALL_MS). Kept below the writers' liveness window
   * minus a heartbeat, so an instance writers no longer wait for has always stopped answering by itself.
   */
  stallMs: number;
  /**
   * How long an instance announces itself as serving before it joins the queue group (VERIFIER_JOIN_GRACE_MS):
   * longer than an announcement takes to reach every writer, so a write either waits for this instance or
   * committed before it joined (and its first read after joining contains it).
   */
  joinGraceMs: number;
}

type State = 'out' | 'joining' | 'serving';

const leaves = counter({ name: 'keys_verifier_left_queue_total', help: 'Times this verifier left the verify queue group, by reason', labelNames: ['reason'] });
const unbackedFences = counter({ name: 'keys_verifier_unbacked_fences_total', help: 'Fence orders for a position the event store does not hold (not a real write; ignored)' });

/**
 * When this instance may answer verifications, so that an answered write is never contradicted by it:
 *
 * - It joins the `key-verifier` queue group only after announcing itself (serving) for a grace period, and
 *   answers only after a store read made once joined: writers that did not wait for it wrote before it joined.
 * - Writers wait for its announcement of their position; if it does not come in time they publish a fence
 *   order, and an instance behind that position leaves the group until it has read it from the store.
 * - It leaves by itself when it stalls (its heartbeat timer ran late, e.g. a SIGSTOP or a long pause) and when
 *   its NATS connection drops (messages may have been lost), and comes back the same way as it first joined.
 *
 * Out of the group it announces `serving: false`, so writers stop waiting for it.
 */
export class ServingMembership {
  readonly instance = randomUUID();
  private readonly logger = new Logger('verifier-membership');
  private readonly fenceWarning = new ThrottledWarning(this.logger);
  private state: State = 'out';
  /** Bumped whenever the instance leaves: a join in progress that sees it change starts over. */
  private generation = 0;
  private joining: Promise<void> | null = null;
  private mustReach = 0;
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private lastTickAt = Date.now();
  private subscriptions: Subscription[] = [];
  private nc: NatsConnection | null = null;

  constructor(
    private readonly follower: EventFollower,
    private readonly controller: VerifyMessageController,
    private readonly nats: NatsHolder,
    private readonly settings: MembershipSettings,
  ) {}

  get serving(): boolean {
    return this.state === 'serving';
  }

  /** Starts on a connected NATS; the follower must have caught up once. */
  start(nc: NatsConnection): void {
    if (this.running) return;
    this.running = true;
    this.nc = nc;
    this.controller.guard({ stallMs: this.settings.stallMs, onStall: () => this.leave('stalled') });
    this.subscriptions.push(
      nc.subscribe(verifierFenceSubject(this.settings.subjectPrefix), {
        callback: (err, msg) => {
          if (err) return;
          const fence = parseFence(msg.data);
          if (fence) this.onFence(fence.position);
        },
      }),
    );
    this.follower.onApplied(() => this.announce());
    void this.watchConnection(nc);
    this.lastTickAt = Date.now();
    this.controller.tick(this.lastTickAt);
    this.timer = setInterval(() => this.tick(), this.settings.heartbeatMs);
    this.rejoin();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.state = 'out';
    this.generation++;
    this.announce();
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    await this.joining?.catch(() => undefined);
  }

  private tick(): void {
    const now = Date.now();
    const late = now - this.lastTickAt > this.settings.stallMs;
    this.lastTickAt = now;
    this.controller.tick(now);
    if (late && this.state !== 'out') this.leave('stalled');
    this.announce();
    if (this.state === 'out') this.rejoin();
  }

  private onFence(position: number): void {
    if (this.follower.status().applied >= position) return;
    this.mustReach = Math.max(this.mustReach, position);
    this.leave('fenced');
    this.rejoin();
  }

  private leave(reason: 'stalled' | 'fenced' | 'disconnected'): void {
    this.generation++;
    if (this.state === 'out') return;
    this.state = 'out';
    this.controller.suspend();
    leaves.labels(reason).inc();
    this.logger.warn(`left the verify queue group (${reason}); rejoining once the index is current`);
    this.announce();
  }

  /** Joins (again) when the index is current; one join at a time, started over whenever the instance leaves. */
  private rejoin(): void {
    if (this.joining || !this.running) return;
    this.joining = this.join().finally(() => {
      this.joining = null;
    });
  }

  private async join(): Promise<void> {
    while (this.running) {
      const generation = this.generation;
      try {
        await this.follower.sync();
      } catch {
        await sleep(250); // the store is unreachable: stay out, try again
        continue;
      }
      if (generation !== this.generation) continue;
      if (this.follower.status().applied < this.mustReach) {
        // The read began after the order arrived, and writers fence only committed positions.
        unbackedFences.inc();
        this.fenceWarning.warn(`ignored a fence order for position ${this.mustReach}, which the event store does not hold`);
      }
      this.mustReach = 0;
      this.state = 'joining';
      this.announce();
      await sleep(this.settings.joinGraceMs);
      if (generation !== this.generation || !this.running) continue;
      const nc = this.nats.connected ? this.nats.current : null;
      if (!nc) {
        this.generation++;
        this.state = 'out';
        await sleep(250);
        continue;
      }
      // Requests that arrive before the read below completes wait for it (held, bounded).
      this.controller.listen(nc, { hold: true });
      try {
        await this.follower.sync();
      } catch {
        this.leave('disconnected');
        continue;
      }
      if (generation !== this.generation) continue;
      this.state = 'serving';
      this.controller.release();
      this.announce();
      return;
    }
  }

  private announce(): void {
    const nc = this.nc;
    if (!nc || nc.isClosed()) return;
    try {
      nc.publish(
        verifierAppliedSubject(this.settings.subjectPrefix),
        encodeAnnouncement({ instance: this.instance, applied: this.follower.status().applied, serving: this.state !== 'out' }),
      );
    } catch {
      /* disconnected: the writers stop counting on this instance after their liveness window */
    }
  }

  private async watchConnection(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (!this.running) return;
      if (status.type === Events.Disconnect) this.leave('disconnected');
      else if (status.type === Events.Reconnect) this.rejoin();
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
