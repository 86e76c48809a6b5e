import { Injectable } from '@nestjs/common';

export interface CheckResult {
  ok: boolean;
  details?: Record<string, unknown>;
}
export type ReadinessCheck = () => Promise<CheckResult> | CheckResult;

/** Apps register what must be reachable for them to be ready (Postgres, NATS, projector lag...). */
@Injectable()
export class ReadinessRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  async run(timeoutMs = 2000): Promise<{ ready: boolean; checks: Record<string, CheckResult> }> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]) => [name, await withTimeout(check, timeoutMs)] as const),
    );
    return { ready: entries.every(([, r]) => r.ok), checks: Object.fromEntries(entries) };
  }
}

async function withTimeout(check: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(check),
      new Promise<CheckResult>((resolve) => {
        timer = setTimeout(() => resolve({ ok: false, details: { error: 'timed out' } }), timeoutMs);
      }),
    ]);
  } catch (err) {
    return { ok: false, details: { error: (err as Error).message } };
  } finally {
    clearTimeout(timer);
  }
}
