import { Logger } from '@nestjs/common';
import type { JetStreamClient, NatsConnection } from 'nats';
import { redactUrl, within } from '@keys/platform';
import { connectNats, type NatsSettings } from './nats-connection';

/**
 * Connects in the background and keeps trying, so an app starts (and serves what does not need NATS)
 * while NATS is away. `ready()` resolves once connected; `connected` says whether it is connected now.
 */
export class NatsHolder {
  private readonly logger = new Logger('nats');
  private connection: NatsConnection | null = null;
  private readonly firstConnect: Promise<NatsConnection>;
  private closed = false;
  private disconnected = false;

  constructor(settings: NatsSettings, name: string, onConnect?: (nc: NatsConnection) => Promise<void>) {
    this.firstConnect = this.connectLoop(settings, name, onConnect);
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

  jetstream(): JetStreamClient {
    if (!this.connection) throw new Error('NATS is not connected');
    return this.connection.jetstream();
  }

  /** Drains the connection (pending publishes and subscriptions), at most 2 s, then closes it. */
  async close(): Promise<void> {
    this.closed = true;
    const nc = this.connection;
    if (!nc || nc.isClosed()) return;
    if (!(await within(2000, nc.drain()))) await within(1000, nc.close());
  }

  private async connectLoop(settings: NatsSettings, name: string, onConnect?: (nc: NatsConnection) => Promise<void>): Promise<NatsConnection> {
    const where = `NATS_URL=${redactUrl(settings.url)}`;
    for (let failures = 0; ; failures++) {
      if (this.closed) throw new Error('closed before NATS connected');
      let nc: NatsConnection | null = null;
      try {
        nc = await connectNats(settings, name, { waitOnFirstConnect: false, timeout: 2000 });
        this.watch(nc, where);
        if (onConnect) await onConnect(nc);
        this.connection = nc;
        this.logger.log(`connected to ${where}`);
        return nc;
      } catch (err) {
        // Once, not at every attempt: the app keeps serving what does not need NATS and keeps trying.
        if (failures === 0 && !this.closed) this.logger.warn(`cannot reach ${where} (${(err as Error).message}); retrying every 0.5 s`);
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
