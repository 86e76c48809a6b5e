import { Logger } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { connectNats, type NatsSettings, redactUrl } from './nats-connection';

/**
 * KeyAuthModule's NATS connection: connects in the background and keeps trying, so the service starts (and
 * answers what needs no key) while NATS is away. `connected` is for readiness checks; `ready()` resolves once
 * connected.
 */
export class KeyAuthConnection {
  private readonly logger = new Logger('keys-auth');
  private connection: NatsConnection | null = null;
  private readonly firstConnect: Promise<NatsConnection>;
  private closed = false;
  private disconnected = false;

  constructor(settings: NatsSettings, name: string) {
    this.firstConnect = this.connectLoop(settings, name);
    this.firstConnect.catch(() => undefined);
  }

  ready(): Promise<NatsConnection> {
    return this.firstConnect;
  }

  get current(): NatsConnection | null {
    return this.connection;
  }

  get connected(): boolean {
    return this.connection !== null && !this.connection.isClosed() && !this.disconnected;
  }

  /** Drains the connection, at most 2 s, then closes it. */
  async close(): Promise<void> {
    this.closed = true;
    const nc = this.connection;
    if (!nc || nc.isClosed()) return;
    if (!(await within(2000, nc.drain()))) await within(1000, nc.close());
  }

  private async connectLoop(settings: NatsSettings, name: string): Promise<NatsConnection> {
    const where = `NATS ${redactUrl(settings.url)}`;
    for (let failures = 0; ; failures++) {
      if (this.closed) throw new Error('closed before NATS connected');
      let nc: NatsConnection | null = null;
      try {
        nc = await connectNats(settings, name, { waitOnFirstConnect: false, timeout: 2000 });
        if (this.closed) {
          await nc.close();
          throw new Error('closed before NATS connected');
        }
        this.watch(nc, where);
        this.connection = nc;
        this.logger.log(`connected to ${where}`);
        return nc;
      } catch (err) {
        if (this.closed) throw err;
        // Once, not at every attempt: the service keeps running and keeps trying.
        if (failures === 0) this.logger.warn(`cannot reach ${where} (${(err as Error).message}); retrying every 0.5 s`);
        await nc?.close().catch(() => undefined);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private watch(nc: NatsConnection, where: string): void {
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect') {
          if (!this.disconnected && !this.closed) this.logger.warn(`disconnected from ${where}; reconnecting`);
          this.disconnected = true;
        }
        if (status.type === 'reconnecting') this.disconnected = true;
        if (status.type === 'reconnect') {
          if (this.disconnected) this.logger.log(`reconnected to ${where}`);
          this.disconnected = false;
        }
      }
    })().catch(() => undefined);
  }
}

/** Whether the work settled within ms (it is not cancelled either way). */
async function within(ms: number, work: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
