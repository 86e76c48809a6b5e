// Errors that mean "a backing service is unreachable right now" (→ 503 unavailable), as opposed to bugs.

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN']);

export function isUnavailableError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; name?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  const code = typeof e.code === 'string' ? e.code : '';
  if (NETWORK_CODES.has(code)) return true;
  // Postgres: 08xxx connection exceptions, 57P01-03 shutdown / cannot connect now, 53300 too many connections.
  if (/^08...$/.test(code) || /^57P0[123]$/.test(code) || code === '53300') return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connect ECONNREFUSED|CONNECTION_CLOSED|DISCONNECT/i.test(message);
}
