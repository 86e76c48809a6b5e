import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { eventStoreMigrations } from '@keys/event-store';
import { createTestContext, type TestContext } from '@keys/testing';
import { keysctl } from '../../../test/fixtures/keysctl.fixture';
import { version } from '../../../package.json';

// keysctl as an operator runs it (a process): its command line, and that it never creates or migrates a database
// unless asked with `keysctl db migrate`.

const serverUrl = () => process.env.TEST_DATABASE_URL as string;

function urlOf(database: string): string {
  const url = new URL(serverUrl());
  url.pathname = `/${database}`;
  return url.toString();
}

async function query<T extends Record<string, unknown>>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

const databaseExists = async (name: string) => (await query(serverUrl(), 'select 1 from pg_database where datname = $1', [name])).length === 1;
const dropDatabase = (name: string) => query(serverUrl(), `drop database if exists "${name}" with (force)`);

describe('keysctl command line', () => {
  const env = { NATS_URL: 'nats://127.0.0.1:1' }; // none of these needs NATS

  it('prints one command\'s usage for <command> --help, exit 0, on stdout', async () => {
    const run = await keysctl(['accounts', 'create', '--help'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('usage: keysctl accounts create --name <name> [--json]');
    expect(run.stderr).toBe('');
  });

  it('prints the package version for --version', async () => {
    const run = await keysctl(['--version'], env);
    expect(run).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('refuses an unknown command, naming it and listing the commands, exit 2', async () => {
    const run = await keysctl(['acounts', 'create', '--name', 'x'], env);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('unknown command "acounts"');
    expect(run.stderr).toContain('keysctl accounts create --name <name>');
    expect(run.stderr).toContain('keysctl db migrate');
  });

  it('refuses no command at all, listing the commands, exit 2', async () => {
    const run = await keysctl([], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no command given');
    expect(run.stderr).toContain('keysctl audit verify');
  });

  it('with --json, writes an error as one JSON object on stdout and nothing on stderr', async () => {
    const unknown = await keysctl(['keys', 'rotate', '--json'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('');
    expect(JSON.parse(unknown.stdout)).toEqual({ error: { message: 'unknown command "keys rotate"', code: 'unknown_command', commands: expect.arrayContaining(['keys create', 'db migrate']) } });

    const usage = await keysctl(['keys', 'create', '--account', '1', '--type', 'gold', '--name', 'x', '--json'], env);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout)).toEqual({ error: { message: '--type must be proxy or billing', code: 'usage' } });
  });
});

describe('keysctl and the database', () => {
  let ctx: TestContext;
  const created: string[] = [];

  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(async () => {
    for (const name of created) await dropDatabase(name);
    await ctx?.dispose();
  });

  const envFor = (databaseUrl: string) => ({ DATABASE_URL: databaseUrl, NATS_URL: ctx.natsUrl, KEYS_SUBJECT_PREFIX: ctx.subjectPrefix, VERIFY_PROPAGATION_TIMEOUT_MS: '0' });

  it('refuses a database that does not exist, naming it, and creates nothing (no database, no key)', async () => {
    const typo = `keys_typo_${randomBytes(4).toString('hex')}`;
    created.push(typo); // dropped afterwards, should this test fail
    const run = await keysctl(['accounts', 'create', '--name', 'Acme'], envFor(urlOf(typo)));
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(''); // no billing key was issued
    expect(run.stderr).toContain(`database "${typo}" does not exist at ${urlOf(typo)} (DATABASE_URL); create it with keysctl db migrate --create-database`);
    expect(await databaseExists(typo)).toBe(false);

    const audit = await keysctl(['audit', 'verify', '--json'], envFor(urlOf(typo)));
    expect(audit.code).toBe(1);
    expect(JSON.parse(audit.stdout).error.code).toBe('database_missing');
    expect(await databaseExists(typo)).toBe(false);

    const migrate = await keysctl(['db', 'migrate'], envFor(urlOf(typo)));
    expect(migrate.code).toBe(1);
    expect(migrate.stderr).toContain(`database "${typo}" does not exist`);
    expect(await databaseExists(typo)).toBe(false);
  });

  it('redacts the password of the URL it names', async () => {
    const url = new URL(urlOf(`keys_typo_${randomBytes(4).toString('hex')}`));
    url.username = 'postgres';
    url.password = 's3cret';
    const run = await keysctl(['accounts', 'create', '--name', 'Acme', '--json'], envFor(url.toString()));
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).not.toContain('s3cret');
  });

  it('refuses a database that exists but is not migrated, and migrates nothing', async () => {
    const run = await keysctl(['keys', 'create', '--account', '1', '--type', 'proxy', '--name', 'x', '--json'], envFor(ctx.databaseUrl));
    expect(run.code).toBe(1);
    const { error } = JSON.parse(run.stdout);
    expect(error.code).toBe('database_not_migrated');
    expect(error.message).toMatch(/is not migrated \(\d+ of \d+ migrations missing, from .*\); run keysctl db migrate$/);
    const [{ table }] = await query<{ table: string | null }>(ctx.databaseUrl, "select to_regclass('kysely_migration')::text as table");
    expect(table).toBeNull();
  });

  it('db migrate migrates an existing database (once), after which keysctl writes to it', async () => {
    const first = await keysctl(['db', 'migrate', '--json'], envFor(ctx.databaseUrl));
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ created: false, applied: Object.keys(eventStoreMigrations), grantedTo: null });
    const again = await keysctl(['db', 'migrate', '--json'], envFor(ctx.databaseUrl));
    expect(JSON.parse(again.stdout)).toMatchObject({ created: false, applied: [] });
    const account = await keysctl(['accounts', 'create', '--name', 'Acme', '--json'], envFor(ctx.databaseUrl));
    expect(account.code).toBe(0);
    expect(JSON.parse(account.stdout).billingKey.key).toMatch(/^mk-/);
  });

  it('db migrate --create-database creates the database and migrates it', async () => {
    const name = `keys_new_${randomBytes(4).toString('hex')}`;
    created.push(name);
    const run = await keysctl(['db', 'migrate', '--create-database'], envFor(urlOf(name)));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`database "${name}" created`);
    expect(await databaseExists(name)).toBe(true);
    const applied = await query<{ name: string }>(urlOf(name), 'select name from kysely_migration order by name');
    expect(applied.map((r) => r.name)).toEqual(Object.keys(eventStoreMigrations).sort());
    const audit = await keysctl(['audit', 'verify', '--json'], envFor(urlOf(name)));
    expect(audit.code).toBe(0);
  });
});
