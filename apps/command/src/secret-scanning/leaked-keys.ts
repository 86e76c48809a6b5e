import { createHash } from 'node:crypto';
import { type ExistingKeyState, isExpiredAt, leakLocation } from '@keys/domain';
import type { KeyCommandService, RequestContext } from '@keys/key-service';
import { hashKey, parseKey } from '@keys/key-material';
import { ApiError } from '@keys/platform';

/** One match GitHub reports: the token found, our secret type's name, where, and in what kind of source. */
export interface LeakReport {
  token: string;
  type: string;
  url?: string;
  source?: string;
}

/** GitHub's feedback shape: the token as its SHA-256 hex (never the token back), and our verdict on it. */
export interface LeakLabel {
  token_hash: string;
  token_type: string;
  label: 'true_positive' | 'false_positive';
}

export const MAX_REPORTS_PER_ALERT = 1000;
/** Same-key revocations in flight at once: enough to share group commits, few enough to leave room for the API. */
const CONCURRENCY = 16;
const MAX_FIELD_LENGTH = 4096;

/** The body as a list of reports, or 400 validation_failed. Extra fields GitHub may add are ignored. */
export function leakReports(body: unknown): LeakReport[] {
  if (!Array.isArray(body) || body.length === 0) throw ApiError.validation('The body must be a non-empty JSON array of alerts.');
  if (body.length > MAX_REPORTS_PER_ALERT) throw ApiError.validation(`At most ${MAX_REPORTS_PER_ALERT} alerts per request.`);
  return body.map((entry: unknown, i) => {
    const e = entry as Partial<Record<string, unknown>> | null;
    if (!e || typeof e !== 'object' || Array.isArray(e)) throw ApiError.validation(`Alert ${i} is not an object.`, `[${i}]`);
    for (const field of ['token', 'type'] as const) {
      if (typeof e[field] !== 'string' || (e[field] as string).length > MAX_FIELD_LENGTH) throw ApiError.validation(`Alert ${i} needs a string ${field}.`, `[${i}].${field}`);
    }
    for (const field of ['url', 'source'] as const) {
      if (e[field] !== undefined && e[field] !== null && typeof e[field] !== 'string') throw ApiError.validation(`Alert ${i}: ${field} must be a string.`, `[${i}].${field}`);
    }
    return { token: e.token as string, type: e.type as string, url: (e.url as string | undefined) ?? undefined, source: (e.source as string | undefined) ?? undefined };
  });
}

/**
 * Revokes every reported token that is a live key of ours, whichever account holds it (reason `leaked`, the
 * report's URL as foundAt), and labels each report. `true_positive` means "a key of ours, now revoked because it
 * leaked", so a retried alert gets the same answer and changes nothing. Malformed, unknown, deleted, expired
 * (harmless: it can never work again) and operator-revoked keys are `false_positive` and are left as they are.
 * Returns the labels in the reports' order and the position of the last revocation appended (null if none).
 */
export async function revokeLeakedKeys(
  keys: KeyCommandService,
  reports: readonly LeakReport[],
  ctx: RequestContext,
): Promise<{ labels: LeakLabel[]; position: number | null }> {
  // A token reported twice in one alert is looked at once.
  const distinct = new Map<string, { url?: string }>();
  for (const report of reports) if (!distinct.has(report.token)) distinct.set(report.token, { url: report.url });
  const labels = new Map<string, LeakLabel['label']>();
  let position: number | null = null;
  const work = [...distinct.entries()];
  const next = async (): Promise<void> => {
    for (let item = work.shift(); item; item = work.shift()) {
      const [token, { url }] = item;
      const parsed = parseKey(token);
      const outcome = parsed.ok ? await revokeIfLive(keys, hashKey(parsed.key), url, ctx) : null;
      labels.set(token, outcome?.leaked ? 'true_positive' : 'false_positive');
      if (outcome?.position != null) position = Math.max(position ?? 0, outcome.position);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, work.length) }, next));
  const labelled = reports.map((r) => ({ token_hash: sha256Hex(r.token), token_type: r.type, label: labels.get(r.token) ?? ('false_positive' as const) }));
  return { labels: labelled, position };
}

async function revokeIfLive(keys: KeyCommandService, hash: string, url: string | undefined, ctx: RequestContext) {
  const keyId = await keys.keyIdOfHash(hash);
  if (keyId === null) return null;
  const change = await keys.changeKey(
    keyId,
    null,
    (state, now) => (isLive(state, now) ? [{ type: 'RevokeKey', keyId, reason: 'leaked', foundAt: leakLocation(url), note: null, now }] : []),
    ctx,
  );
  return { leaked: change.state.revocation?.reason === 'leaked', position: change.position };
}

const isLive = (state: ExistingKeyState, now: string): boolean => !state.deleted && !state.revocation && !isExpiredAt(state, now);

// GitHub's token_hash: the SHA-256 hex of the token exactly as reported.
const sha256Hex = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');
