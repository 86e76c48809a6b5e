import type { JetStreamClient, NatsConnection } from 'nats';
import { connectNats, type NatsSettings } from './nats-connection';

/**
 * Connects in the background and keeps trying, so an app starts (and serves what does not need NATS)
 * while NATS is away. `ready()` resolves once connected; `connected` says whether it is connected now.
 */
export class NatsHolder {
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

  async close(): Promise<void> {
    this.closed = true;
    await this.connection?.drain().catch(() => this.connection?.close());
  }

  private async connectLoop(settings: NatsSettings, name: string, onConnect?: (nc: NatsConnection) => Promise<void>): Promise<NatsConnection> {
    for (;;) {
      if (this.closed) throw new Error('closed before NATS connected');
      let nc: NatsConnection | null = null;
      try {
        nc = await connectNats(settings, name, { waitOnFirstConnect: false, timeout: 2000 });
        this.watch(nc);
        if (onConnect) await onConnect(nc);
        this.connection = nc;
        return nc;
      } catch {
        await nc?.close().catch(() => undefined);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private watch(nc: NatsConnection): void {
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect' || status.type === 'reconnecting') this.disconnected = true;
        if (status.type === 'reconnect') this.disconnected = false;
      }
    })().catch(() => undefined);
  }
}
