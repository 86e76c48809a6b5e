import type { NatsConnection } from 'nats';
import { type PropagationOutcome, VerifierPropagation, connectNats } from '@keys/bus';
import { type CoreConfig, readEnv, redactUrl } from '@keys/platform';
import type { Output } from './cli';

// Read-your-writes for keysctl's writes, exactly as the command service does it (docs/verification.md,
// "Consistency with writes"): a key keysctl prints is VALID on every serving verifier by the time it is printed,
// or the verifiers that have not applied it were ordered out of service until they have.

export interface PropagationSettings {
  /** VERIFY_PROPAGATION_TIMEOUT_MS: longest wait for the verifiers; 0 does not wait (outcome `unconfirmed`). */
  timeoutMs: number;
  /** VERIFIER_LIVENESS_MS: a verifier not heard from for this long is gone. */
  livenessMs: number;
}

/** The same names, defaults and bounds as the command app's settings. */
export function readPropagationSettings(env: NodeJS.ProcessEnv = process.env): PropagationSettings {
  return {
    timeoutMs: readEnv.int(env, 'VERIFY_PROPAGATION_TIMEOUT_MS', 1000, { min: 0, max: 60_000 }),
    livenessMs: readEnv.int(env, 'VERIFIER_LIVENESS_MS', 1000, { min: 100, max: 60_000 }),
  };
}

/** A CLI cannot wait for NATS like a service: past this the write is reported `unconfirmed`. */
const CONNECT_TIMEOUT_MS = 2000;

export interface PropagationReport {
  outcome: PropagationOutcome;
  /** Why it is not `confirmed`, for the operator; absent when confirmed. */
  detail?: string;
}

/**
 * Started before the write: connecting and the roster's warm-up (one liveness window of listening to the
 * verifiers' announcements) then overlap the write instead of following it.
 */
export class WritePropagation {
  private nc: NatsConnection | null = null;
  private connectError: string | null = null;
  private readonly propagation: VerifierPropagation;
  private readonly connected: Promise<void>;

  constructor(
    private readonly config: CoreConfig,
    private readonly settings: PropagationSettings = readPropagationSettings(),
  ) {
    this.propagation = new VerifierPropagation(() => this.nc, { subjectPrefix: config.subjectPrefix, timeoutMs: settings.timeoutMs, livenessMs: settings.livenessMs });
    this.connected = settings.timeoutMs === 0 ? Promise.resolve() : this.connect();
  }

  /** Never throws: the write has happened, and its key must still be printed. */
  async confirm(position: number): Promise<PropagationReport> {
    if (this.settings.timeoutMs === 0) return { outcome: 'unconfirmed', detail: 'not waited for (VERIFY_PROPAGATION_TIMEOUT_MS=0)' };
    await this.connected;
    if (this.connectError !== null) return { outcome: 'unconfirmed', detail: this.connectError };
    try {
      const outcome = await this.propagation.confirm(position);
      if (outcome === 'confirmed') return { outcome };
      if (outcome === 'fenced') {
        return { outcome, detail: `a verifier had not applied position ${position} within ${this.settings.timeoutMs} ms and was ordered out of service until it has` };
      }
      return { outcome, detail: 'lost the NATS connection while waiting' };
    } catch (err) {
      return { outcome: 'unconfirmed', detail: (err as Error).message };
    }
  }

  async close(): Promise<void> {
    this.propagation.close();
    await this.connected;
    await this.nc?.close().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const { natsUrl, natsUser, natsPassword, natsCreds } = this.config;
    try {
      const nc = await connectNats({ url: natsUrl, user: natsUser, password: natsPassword, credsFile: natsCreds }, 'keysctl', {
        waitOnFirstConnect: false,
        timeout: CONNECT_TIMEOUT_MS,
        maxReconnectAttempts: 0,
      });
      this.nc = nc;
      this.propagation.attach(nc);
    } catch (err) {
      // Verifiers still apply the write from the store; one that cannot stops answering within its stall bound.
      this.connectError = `cannot reach NATS at ${redactUrl(natsUrl)} (NATS_URL): ${(err as Error).message}; the verifiers still apply the write from the store`;
    }
  }
}

/**
 * `propagation: <outcome>` on stderr in text mode; with --json the result carries the outcome as its
 * `propagation` field, and only a reason for one other than `confirmed` goes to stderr.
 */
export function reportPropagation(out: Output, report: PropagationReport): void {
  const line = report.detail ? `propagation: ${report.outcome} (${report.detail})` : `propagation: ${report.outcome}`;
  if (!out.json || report.outcome !== 'confirmed') out.log(line);
}
