// The dashboard's only way to the API: same origin, the billing key as `Authorization: Bearer`, nowhere else.

export type KeyKind = 'proxy' | 'billing';

/** The key object of docs/api.md; `lastUsedAt`, `revokedAt` and `revokedReason` only when the API sends them. */
export interface ApiKey {
  id: number;
  name: string;
  prefix: string;
  active: boolean;
  createdAt: string | null;
  expiresAt: string | null;
  lastUsedAt?: string | null;
  revokedAt?: string | null;
  revokedReason?: string | null;
  revokedFoundAt?: string | null;
}

/** A created or rolled key: the only answer that carries the full `key`. */
export interface CreatedKey extends ApiKey {
  key: string;
}

export interface SecurityLogEntry {
  id: number;
  action: string;
  ipAddress: string | null;
  createdAt: string;
  details: Record<string, unknown> & { keyId?: number; keyType?: string; name?: string; prefix?: string; actor?: Record<string, unknown> };
}

export interface KeyChange {
  name?: string;
  active?: boolean;
  expires_at?: string | null;
}

/** A refusal of the API, with its own sentence (`error.message`) and code. */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

export function pathOf(kind: KeyKind): string {
  return kind === 'proxy' ? '/api/keys' : '/api/billing-keys';
}

export class ApiClient {
  constructor(
    private readonly billingKey: string,
    /** Called when the API no longer accepts the billing key (deleted, expired, deactivated). */
    private readonly onUnauthorized: (error: ApiRequestError) => void = () => undefined,
  ) {}

  listKeys(kind: KeyKind): Promise<ApiKey[]> {
    return this.call<{ keys: ApiKey[] }>('GET', pathOf(kind)).then((body) => body.keys);
  }

  createKey(kind: KeyKind, name: string, expiresAt: string | null): Promise<CreatedKey> {
    return this.call('POST', pathOf(kind), expiresAt ? { name, expires_at: expiresAt } : { name });
  }

  updateKey(kind: KeyKind, id: number, change: KeyChange): Promise<ApiKey> {
    return this.call('PATCH', `${pathOf(kind)}/${id}`, change);
  }

  rollKey(kind: KeyKind, id: number, expiresInSeconds: number): Promise<CreatedKey> {
    return this.call('POST', `${pathOf(kind)}/${id}/roll`, { expires_in_seconds: expiresInSeconds });
  }

  deleteKey(kind: KeyKind, id: number): Promise<{ id: number; deleted: true }> {
    return this.call('DELETE', `${pathOf(kind)}/${id}`);
  }

  securityLog(limit: number, before?: number): Promise<SecurityLogEntry[]> {
    const query = new URLSearchParams({ limit: String(limit) });
    if (before !== undefined) query.set('before', String(before));
    return this.call<{ logs: SecurityLogEntry[] }>('GET', `/api/security-log?${query}`).then((body) => body.logs);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.billingKey}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit',
        cache: 'no-store',
        referrerPolicy: 'no-referrer',
      });
    } catch {
      throw new ApiRequestError(0, 'network_error', 'The API could not be reached. Check your connection and try again.');
    }
    const parsed = await response.json().catch(() => undefined);
    if (!response.ok) {
      const error = parsed?.error;
      const refusal = new ApiRequestError(
        response.status,
        typeof error?.code === 'string' ? error.code : 'request_failed',
        typeof error?.message === 'string' ? error.message : `The request failed (HTTP ${response.status}).`,
      );
      if (response.status === 401) this.onUnauthorized(refusal);
      throw refusal;
    }
    return parsed as T;
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : 'Something went wrong.';
}
