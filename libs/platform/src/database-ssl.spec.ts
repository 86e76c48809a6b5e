import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { ConfigError, readCoreConfig, withDatabaseSsl } from './config';

// DATABASE_SSL / DATABASE_SSL_CA_FILE end up as connection-string parameters; what matters is what
// node-postgres makes of them, so the assertions read the parameters a pg Client would connect with
// (no connection is opened).
interface ClientParameters {
  ssl: false | { ca?: string; rejectUnauthorized?: boolean };
  user: string;
  password: string;
  host: string;
  port: number;
  database: string;
  application_name?: string;
}
const parse = (connectionString: string): ClientParameters =>
  (new Client({ connectionString }) as unknown as { connectionParameters: ClientParameters }).connectionParameters;
describe('Postgres TLS from the environment', () => {
  let dir: string;
  let caFile: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'keys-ssl-'));
    caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nnot-a-real-ca\n-----END CERTIFICATE-----\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const base = { DATABASE_URL: 'postgres://keys:s%40cret@db.internal:5432/keys' };

  it('disable (the default) connects with the URL exactly as given', () => {
    expect(readCoreConfig({ ...base }).databaseUrl).toBe(base.DATABASE_URL);
    expect(readCoreConfig({ ...base, DATABASE_SSL: 'disable' }).databaseUrl).toBe(base.DATABASE_URL);
    expect(parse(readCoreConfig({ ...base }).databaseUrl).ssl).toBe(false);
  });

  it('require encrypts without checking the server certificate', () => {
    const parsed = parse(readCoreConfig({ ...base, DATABASE_SSL: 'require' }).databaseUrl);
    expect(parsed.ssl).toEqual({ rejectUnauthorized: false });
  });

  it('verify-full checks the certificate and host name against the given CA', () => {
    const url = readCoreConfig({ ...base, DATABASE_SSL: 'verify-full', DATABASE_SSL_CA_FILE: caFile }).databaseUrl;
    const parsed = parse(url);
    expect(parsed.ssl).toMatchObject({ ca: expect.stringContaining('not-a-real-ca') });
    expect(parsed.ssl && parsed.ssl.rejectUnauthorized).not.toBe(false);
    // The rest of the URL survives: user, encoded password, host, database.
    expect(parsed).toMatchObject({ user: 'keys', password: 's@cret', host: 'db.internal', port: 5432, database: 'keys' });
  });

  it('verify-full without a CA file verifies against the system CAs', () => {
    const parsed = parse(withDatabaseSsl(base.DATABASE_URL, 'verify-full'));
    expect(parsed.ssl).toEqual({});
  });

  it('overrides an sslmode already in DATABASE_URL', () => {
    const url = withDatabaseSsl(`${base.DATABASE_URL}?sslmode=disable&application_name=keys`, 'require');
    expect(parse(url)).toMatchObject({ ssl: { rejectUnauthorized: false }, application_name: 'keys' });
  });

  it('refuses values it cannot honour, naming the variable', () => {
    expect(() => readCoreConfig({ ...base, DATABASE_SSL: 'prefer' })).toThrow(/DATABASE_SSL must be disable, require or verify-full/);
    expect(() => readCoreConfig({ ...base, DATABASE_SSL: 'require', DATABASE_SSL_CA_FILE: caFile })).toThrow(/DATABASE_SSL_CA_FILE is only used with DATABASE_SSL=verify-full/);
    expect(() => readCoreConfig({ ...base, DATABASE_SSL: 'verify-full', DATABASE_SSL_CA_FILE: join(dir, 'missing.pem') })).toThrow(ConfigError);
  });

  it('reads the key stream replica count (1 unless clustered)', () => {
    expect(readCoreConfig({}).streamReplicas).toBe(1);
    expect(readCoreConfig({ KEYS_STREAM_REPLICAS: '3' }).streamReplicas).toBe(3);
    expect(() => readCoreConfig({ KEYS_STREAM_REPLICAS: '0' })).toThrow(/KEYS_STREAM_REPLICAS must be at least 1/);
  });
});
