import { Client } from 'pg';

export const APPENDS_CHANNEL = 'key_events';

/**
 * A dedicated connection that LISTENs for committed appends (the events trigger NOTIFYs at commit), so
 * followers react in about a millisecond instead of waiting for a poll. Followers must still poll
 * slowly: a notification can be missed while the connection is being re-established.
 */
export class AppendNotifications {
  private client: Client | null = null;
  private closed = false;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly databaseUrl: string) {}

  async start(): Promise<void> {
    this.closed = false;
    await this.connect();
  }

  /** Resolves at the next notification, or after `timeoutMs`. */
  wait(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const wake of [...this.waiters]) wake();
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new Client({ connectionString: this.databaseUrl });
    client.on('notification', () => this.wakeAll());
    client.on('error', () => this.reconnectSoon(client));
    client.on('end', () => this.reconnectSoon(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${APPENDS_CHANNEL}`);
      this.client = client;
      this.wakeAll(); // something may have been appended while we were not listening
    } catch {
      await client.end().catch(() => undefined);
      this.reconnectSoon(null);
    }
  }

  private reconnectSoon(client: Client | null): void {
    if (this.closed || (client && this.client !== client)) return;
    this.client = null;
    setTimeout(() => void this.connect(), 500).unref();
  }

  private wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }
}
