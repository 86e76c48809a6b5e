import { Client } from 'pg';

/**
 * Leadership through a session-level advisory lock on a dedicated connection: one holder among all
 * processes; when the holder's connection dies, Postgres releases the lock and another takes over.
 */
export class SessionLock {
  private client: Client | null = null;

  constructor(
    private readonly databaseUrl: string,
    private readonly lockKey: number,
  ) {}

  get held(): boolean {
    return this.client !== null;
  }

  /** Tries once; true when this process now holds the lock. */
  async tryAcquire(onLost: () => void): Promise<boolean> {
    if (this.client) return true;
    const client = new Client({ connectionString: this.databaseUrl });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const result = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [this.lockKey]);
      if (!result.rows[0]?.ok) {
        await client.end();
        return false;
      }
    } catch {
      await client.end().catch(() => undefined);
      return false;
    }
    const lost = () => {
      if (this.client !== client) return;
      this.client = null;
      onLost();
    };
    client.on('end', lost);
    client.on('error', lost);
    this.client = client;
    return true;
  }

  async release(): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }
}
