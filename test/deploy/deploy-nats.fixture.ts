import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { NatsConnection } from 'nats';
import { connectNats } from '@keys/bus';
import { freePorts } from '@keys/testing';

export const DEPLOY_NATS_CONF = resolve(__dirname, '../../deploy/nats.conf');
export const NATS_USERS = ['command', 'verifier', 'projector', 'gateway'] as const;
export type NatsUser = (typeof NATS_USERS)[number];

/** The inbox prefix deploy/nats.conf gives each user (NATS_INBOX_PREFIX in deploy/compose.yaml). */
export const inboxPrefixOf = (user: NatsUser): string => `_INBOX_${user}`;

/** A private nats-server running deploy/nats.conf, with a random password per user. */
export interface DeployNats {
  url: string;
  /**
   * Connects the way the apps do (libs/bus connectNats, NATS_USER/NATS_PASSWORD/NATS_INBOX_PREFIX), with
   * the user's own inbox prefix unless told otherwise.
   */
  connectAs(user: NatsUser, options?: { inboxPrefix?: string }): Promise<NatsConnection>;
  stop(): Promise<void>;
}

const PRODUCTION_STORE_DIR = 'store_dir: /data/jetstream';

/**
 * Starts nats-server with the deploy config. Only two things differ from production, both outside the
 * permissions under test: the JetStream store directory (a temporary one; the config's own path is
 * rewritten because `-sd` may not be combined with a store_dir in the file) and the ports (free ones).
 */
export async function startDeployNats(): Promise<DeployNats> {
  const dir = mkdtempSync(join(tmpdir(), 'keys-deploy-nats-'));
  const source = readFileSync(DEPLOY_NATS_CONF, 'utf8');
  if (source.split(PRODUCTION_STORE_DIR).length !== 2) {
    throw new Error(`deploy/nats.conf no longer contains "${PRODUCTION_STORE_DIR}" exactly once; update this fixture`);
  }
  const confPath = join(dir, 'nats.conf');
  writeFileSync(confPath, source.replace(PRODUCTION_STORE_DIR, `store_dir: ${JSON.stringify(join(dir, 'jetstream'))}`));

  const passwords = Object.fromEntries(NATS_USERS.map((user) => [user, `7${randomBytes(12).toString('hex')}`])) as Record<NatsUser, string>;
  const env = { ...process.env };
  // nats-server parses an environment variable's value as a config value, so a password is handed over
  // quoted (a bare hex password starting with a digit would be read as a malformed number); compose does the same.
  for (const user of NATS_USERS) env[`NATS_${user.toUpperCase()}_PASSWORD`] = `"${passwords[user]}"`;

  const [port, monitorPort] = await freePorts(2);
  const server = spawn(natsServerBinary(), ['-c', confPath, '-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = `nats://127.0.0.1:${port}`;
  try {
    await untilReady(server);
  } catch (err) {
    server.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const connections: NatsConnection[] = [];
  return {
    url,
    async connectAs(user, options = {}) {
      const inboxPrefix = options.inboxPrefix ?? inboxPrefixOf(user);
      const nc = await connectNats({ url, user, password: passwords[user], inboxPrefix }, `deploy-test-${user}`, { maxReconnectAttempts: 0 });
      connections.push(nc);
      return nc;
    },
    async stop() {
      await Promise.all(connections.map((nc) => nc.close().catch(() => undefined)));
      if (server.exitCode === null) {
        const exited = new Promise((done) => server.once('exit', done));
        server.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function natsServerBinary(): string {
  if (process.env.NATS_SERVER_BIN) return process.env.NATS_SERVER_BIN;
  return existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server';
}

function untilReady(server: ChildProcess): Promise<void> {
  return new Promise((ready, fail) => {
    let log = '';
    const timer = setTimeout(() => fail(new Error(`nats-server did not get ready within 10 s:\n${log}`)), 10_000);
    const onOutput = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('Server is ready')) {
        clearTimeout(timer);
        ready();
      }
    };
    server.stdout?.on('data', onOutput);
    server.stderr?.on('data', onOutput);
    server.once('error', (err) => {
      clearTimeout(timer);
      fail(new Error(`cannot start nats-server (set NATS_SERVER_BIN to its path): ${err.message}`));
    });
    server.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`nats-server exited with ${code} before it was ready:\n${log}`));
    });
  });
}
