import { randomBytes } from 'node:crypto';
import { keyLookupProjection } from '@keys/key-service';
import { createTestContext, type TestContext } from '@keys/testing';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { Client, DatabaseError } from 'pg';
import { appendToStream } from './append';
import { readCheckpoint, saveCheckpoint } from './checkpoints.table';
import { createDatabase, type Database } from './database';
import { APP_TABLE_PRIVILEGES } from './database-roles';
import { EventAppender } from './event-appender';
import { nextKeyId } from './id-sequences';
import { openEventStore, prepareEventStore } from './open-store';
import { headPosition, readStream } from './read';
import { metadata, renameRequest } from './store-fixture.spec-helper';
import { verifyChain } from './verify-chain';

const INSUFFICIENT_PRIVILEGE = '42501';

/** `url` logging in as `role` (trust auth in tests: no password). */
function asRole(url: string, role: string): string {
  const parsed = new URL(url);
  parsed.username = role;
  parsed.password = '';
  return parsed.toString();
}

async function runAs(url: string, statement: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

describe('database roles: the app role cannot rewrite history', () => {
  const suffix = randomBytes(4).toString('hex');
  const ownerRole = `keys_owner_${suffix}`;
  const appRole = `keys_app_${suffix}`;
  let ctx: TestContext;
  let ownerUrl: string;
  let appUrl: string;
  let owner: Kysely<Database>;
  let app: Kysely<Database>;

  beforeAll(async () => {
    ctx = await createTestContext();
    const superuserUrl = ctx.databaseUrl;
    const database = new URL(superuserUrl).pathname.slice(1);
    await runAs(superuserUrl, `create role ${ownerRole} login nosuperuser nocreatedb nocreaterole`);
    await runAs(superuserUrl, `create role ${appRole} login nosuperuser nocreatedb nocreaterole`);
    // Owning the database makes the owner role the owner of its public schema (pg_database_owner).
    await runAs(superuserUrl, `alter database ${database} owner to ${ownerRole}`);
    ownerUrl = asRole(superuserUrl, ownerRole);
    appUrl = asRole(superuserUrl, appRole);

    await prepareEventStore(ownerUrl, appUrl);
    owner = createDatabase(ownerUrl, { max: 1 });
    app = createDatabase(appUrl, { max: 2 });
    await owner.transaction().execute((trx) => appendToStream(trx, renameRequest(1, 0, 2)));
  });

  afterAll(async () => {
    await app?.destroy();
    await owner?.destroy();
    await ctx?.dispose(); // drops the database, and with it every grant to the roles
    const client = new Client({ connectionString: process.env.TEST_DATABASE_URL });
    await client.connect();
    try {
      await client.query(`drop role if exists ${appRole}`);
      await client.query(`drop role if exists ${ownerRole}`);
    } finally {
      await client.end();
    }
  });

  const snapshot = () =>
    sql<{ position: number; hash: string; data: unknown }>`select position, hash, data from events order by position`.execute(owner).then((r) => r.rows);
  const triggers = () =>
    sql<{ name: string; enabled: string }>`
      select tgname as name, tgenabled as enabled from pg_trigger where tgrelid = 'events'::regclass and not tgisinternal order by tgname`
      .execute(owner)
      .then((r) => r.rows);

  // Each must fail with insufficient_privilege, not with the append-only trigger's restrict_violation: the
  // trigger is what an owner could switch off, the privilege is what the app role lacks.
  it.each<[string, RawBuilder<unknown>]>([
    ['UPDATE', sql`update events set data = '{"keyId":1,"name":"forged"}' where position = 1`],
    ['DELETE', sql`delete from events where position = 2`],
    ['TRUNCATE', sql`truncate events`],
    ['DISABLE TRIGGER', sql`alter table events disable trigger user`],
    ['DISABLE one TRIGGER', sql`alter table events disable trigger events_refuse_update_delete`],
    ['DROP TRIGGER', sql`drop trigger events_refuse_update_delete on events`],
    ['DROP TABLE', sql`drop table events`],
    ['ALTER TABLE OWNER', sql`alter table events owner to ${sql.raw(appRole)}`],
    [
      'CREATE OR REPLACE FUNCTION',
      sql`create or replace function events_refuse_change() returns trigger language plpgsql as $$ begin return new; end $$`,
    ],
    ['SET session_replication_role', sql`set session_replication_role = replica`],
    ['CREATE TABLE', sql`create table events_shadow (like events)`],
    ['setval on a sequence', sql`select setval('key_id_seq', 1)`],
  ])('refuses %s as the app role and leaves events as they were', async (_name, statement) => {
    const before = await snapshot();
    const triggersBefore = await triggers();
    const error = await app
      .transaction()
      .execute((trx) => statement.execute(trx))
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as DatabaseError).code).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await snapshot()).toEqual(before);
    expect(await triggers()).toEqual(triggersBefore);
    expect(triggersBefore.every((t) => t.enabled === 'O')).toBe(true);
    expect(before.length).toBeGreaterThanOrEqual(2);
  });

  it('owns nothing and holds exactly the listed table privileges, none of them TRIGGER', async () => {
    const owned = await sql<{ name: string }>`
      select c.relname as name from pg_class c join pg_roles r on r.oid = c.relowner
       where r.rolname = ${appRole}
      union all
      select p.proname from pg_proc p join pg_roles r on r.oid = p.proowner where r.rolname = ${appRole}`.execute(owner);
    expect(owned.rows).toEqual([]);
    const grants = await sql<{ table: string; privileges: string }>`
      select table_name as table, string_agg(privilege_type, ',' order by privilege_type) as privileges
        from information_schema.role_table_grants
       where grantee = ${appRole} group by table_name order by table_name`.execute(owner);
    const expected = Object.entries(APP_TABLE_PRIVILEGES)
      .map(([table, privileges]) => ({ table, privileges: [...privileges].sort().join(',') }))
      .sort((a, b) => a.table.localeCompare(b.table));
    expect(grants.rows).toEqual(expected);
  });

  it('appends through the real appender, reads, draws ids and writes key_lookup as the app role', async () => {
    const appender = new EventAppender(app, { inlineProjections: [keyLookupProjection] });
    try {
      const keyId = (await nextKeyId(app)) + 1000; // clear of the streams beforeAll wrote
      const created = { type: 'KeyCreated' as const, data: { keyId, accountId: 7, keyType: 'proxy' as const, name: 'first', prefix: 'pk_test', hash: `hash-${keyId}`, expiresAt: null } };
      await appender.append({ streamId: `key-${keyId}`, expectedVersion: 0, accountId: 7, events: [{ ...created, metadata }] });
      // Second write to the same key: the projection's update path.
      await appender.append(renameRequest(keyId, 1));
      expect((await readStream(app, `key-${keyId}`)).map((e) => e.streamVersion)).toEqual([1, 2]);
      const indexed = await app.selectFrom('key_lookup').select(['name', 'version']).where('key_id', '=', keyId).executeTakeFirstOrThrow();
      expect(indexed).toEqual({ name: 'name 2', version: 2 });
    } finally {
      await appender.close();
    }
    await app.transaction().execute((trx) => appendToStream(trx, renameRequest(99, 0)));
    const chain = await verifyChain(app);
    expect(chain.ok).toBe(true);
  });

  it('writes the projector checkpoint and the read models as the app role', async () => {
    const head = await headPosition(app);
    await app.transaction().execute(async (trx) => {
      // The projector locks its checkpoint row with select ... for update (needs UPDATE).
      await trx.selectFrom('checkpoints').select('position').where('name', '=', 'projector').forUpdate().executeTakeFirst();
      await saveCheckpoint(trx, 'projector', head);
      await sql`
        insert into keys (id, account_id, key_type, name, prefix, active, state, created_at, updated_at, last_position)
        values (1, 7, 'proxy', 'a', 'pk', true, 'active', now(), now(), ${head})
        on conflict (id) do update set name = excluded.name`.execute(trx);
      await sql`
        insert into security_log (id, account_id, action, ip_address, created_at, details)
        values (${head}, 7, 'key.renamed', null, now(), '{}') on conflict (id) do nothing`.execute(trx);
    });
    expect(await readCheckpoint(app, 'projector')).toBe(head);
  });

  it('opens an already migrated store as the app role alone, as the projector and verifier do', async () => {
    const db = await openEventStore(appUrl, { max: 1 });
    try {
      expect(await headPosition(db)).toBeGreaterThan(0);
    } finally {
      await db.destroy();
    }
  });

  it('narrows a wider grant made by hand on the next start', async () => {
    await runAs(ownerUrl, `grant update, delete, truncate, trigger on events to ${appRole}`);
    await prepareEventStore(ownerUrl, appUrl);
    const error = await sql`alter table events disable trigger user`.execute(app).catch((err: unknown) => err);
    expect((error as DatabaseError).code).toBe(INSUFFICIENT_PRIVILEGE);
    const wide = await sql<{ privilege: string }>`
      select privilege_type as privilege from information_schema.role_table_grants
       where grantee = ${appRole} and table_name = 'events' and privilege_type not in ('SELECT', 'INSERT')`.execute(owner);
    expect(wide.rows).toEqual([]);
  });
});
