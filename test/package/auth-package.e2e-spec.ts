import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { createTestContext, type TestContext, waitFor } from '@keys/testing';
import type { RunningCommandApp, openKeyService } from '../fixtures/command-app.fixture';
import { type RunningVerifierApp, startCommandWithVerifier, verifyClient } from '../fixtures/verifier-app.fixture';

// The package as another service gets it: `npm pack` of libs/auth installed in a scratch project outside the
// workspace, the TypeScript blocks of docs/using-from-another-service.md compiled against its .d.ts and run against
// the real command and verifier. Peers are symlinked from the workspace's node_modules (complete after `npm ci`),
// so nothing is fetched from the registry.

const ROOT = join(__dirname, '..', '..');
const DOC = join(ROOT, 'docs', 'using-from-another-service.md');
const PEERS = ['@nestjs/common', '@nestjs/core', '@nestjs/platform-express', '@nestjs/microservices', 'nats', 'rxjs', 'reflect-metadata', '@types/node'];
const TSC = require.resolve('typescript/bin/tsc');

/** Each ```ts block that starts with `// src/<file>.ts`, by file. */
function docSnippets(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [, file, body] of readFileSync(DOC, 'utf8').matchAll(/```ts\n\/\/ (src\/[\w.-]+\.ts)\n([\s\S]*?)```/g)) files.set(file, body);
  return files;
}

// Never synchronously: the command and the verifier run in this process and must go on answering.
const run = async (command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) =>
  (await promisify(execFile)(command, args, { cwd, env, encoding: 'utf8', timeout: 60_000 })).stdout;

/** Scripts only this test needs: they drive the documented modules. */
const RUNNERS: Record<string, string> = {
  'src/check-client-proxy.ts': `import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { KeyCheck, KeyCheckModule } from './key-check.module';

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(KeyCheckModule, { logger: false });
  const [key, scope] = process.argv.slice(2);
  console.log(JSON.stringify(await app.get(KeyCheck).verify(key, scope === 'billing' ? 'billing' : 'proxy')));
  await app.close();
}
void main();
`,
  'src/check-events.ts': `import { followKeyEvents } from './follow-events';

void followKeyEvents((event) => console.log(JSON.stringify({ type: event.type, data: event.data }))).then(() => console.log('ready'));
`,
};

describe('the @keys/auth package, installed from its tarball', () => {
  let ctx: TestContext;
  let command: RunningCommandApp;
  let verifier: RunningVerifierApp;
  let store: Awaited<ReturnType<typeof openKeyService>>;
  let api: Awaited<ReturnType<typeof startCommandWithVerifier>>['api'];
  let billingKey: string;
  let accountId: number;
  /** The temp dir holding the tarball and the scratch project `scratch`. */
  let tmp: string;
  let scratch: string;
  const children: ChildProcess[] = [];

  const env = () => ({ ...process.env, NATS_URL: ctx.natsUrl, KEYS_SUBJECT_PREFIX: ctx.subjectPrefix, NATS_INBOX_PREFIX: '', PORT: '0' });
  const node = (script: string, ...args: string[]) => run(process.execPath, [script, ...args], scratch, env());
  /** Starts a script and resolves once it printed a line matching `ready`; `lines` collects its output. */
  const start = async (script: string, ready: RegExp) => {
    const child = spawn(process.execPath, [script], { cwd: scratch, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const lines: string[] = [];
    let err = '';
    child.stdout!.on('data', (chunk) => lines.push(...String(chunk).split('\n').filter(Boolean)));
    child.stderr!.on('data', (chunk) => (err += String(chunk)));
    await waitFor(() => lines.some((line) => ready.test(line)) || child.exitCode !== null, { timeoutMs: 15_000, intervalMs: 20 });
    if (child.exitCode !== null) throw new Error(`${script} exited ${child.exitCode}: ${err}`);
    return { lines, match: lines.map((line) => ready.exec(line)).find(Boolean)! };
  };
  const createProxyKey = async () => {
    const res = await api.post('/api/keys', { name: 'Packaged' });
    expect(res.status).toBe(201);
    return res.body as { id: number; key: string; prefix: string };
  };
  const settled = async (key: string, code: string) => {
    const client = await verifyClient(ctx);
    try {
      await waitFor(async () => (await client.verify(key, 'proxy')).code === code, { timeoutMs: 5000, intervalMs: 5 });
    } finally {
      await client.close();
    }
  };

  beforeAll(async () => {
    // Pack and install first: it needs no services.
    tmp = mkdtempSync(join(tmpdir(), 'keys-auth-package-'));
    const packDir = join(tmp, 'pack');
    mkdirSync(packDir);
    await run('npm', ['pack', '--silent', '--pack-destination', packDir], join(ROOT, 'libs', 'auth')); // prepack builds dist/
    const tarball = join(packDir, readdirSync(packDir).find((name) => name.endsWith('.tgz'))!);
    const app = join(tmp, 'app');
    mkdirSync(join(app, 'src'), { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'packaged-consumer', version: '0.0.0', private: true }));
    // No peer resolution by npm (it would go to the registry); the peers are linked below.
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--legacy-peer-deps', '--ignore-scripts', tarball], app);
    for (const peer of PEERS) {
      mkdirSync(dirname(join(app, 'node_modules', peer)), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules', peer), join(app, 'node_modules', peer), 'dir');
    }
    for (const [file, body] of [...docSnippets(), ...Object.entries(RUNNERS)]) writeFileSync(join(app, file), body);
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'node16',
          moduleResolution: 'node16',
          target: 'ES2022',
          strict: true,
          experimentalDecorators: true,
          emitDecoratorMetadata: true,
          types: ['node'],
          outDir: 'dist',
          rootDir: 'src',
        },
        include: ['src'],
      }),
    );
    scratch = app;

    ctx = await createTestContext();
    ({ command, store, verifier, billingKey, accountId, api } = await startCommandWithVerifier(ctx));
  }, 90_000);
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await verifier?.close();
    await command?.close();
    await store?.close();
    await ctx?.dispose();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('has no dependency but its peers, and ships only built JS and .d.ts', () => {
    const manifest = JSON.parse(readFileSync(join(scratch, 'node_modules', '@keys', 'auth', 'package.json'), 'utf8'));
    expect(manifest.dependencies).toBeUndefined();
    const shipped = readdirSync(join(scratch, 'node_modules', '@keys', 'auth', 'dist'));
    expect(shipped.filter((name) => !/\.(js|d\.ts)$/.test(name))).toEqual([]);
    expect(shipped.some((name) => name.includes('spec'))).toBe(false);
    const code = shipped.filter((name) => name.endsWith('.js')).map((name) => readFileSync(join(scratch, 'node_modules', '@keys', 'auth', 'dist', name), 'utf8'));
    expect(code.join('\n')).not.toMatch(/require\("@keys\//);
  });

  it("the documented code compiles against the package's .d.ts, with node16 and with node10 resolution", async () => {
    expect(docSnippets().size).toBeGreaterThanOrEqual(8);
    await Promise.all([
      run(process.execPath, [TSC, '-p', 'tsconfig.json'], scratch),
      run(process.execPath, [TSC, '-p', 'tsconfig.json', '--noEmit', '--module', 'commonjs', '--moduleResolution', 'node'], scratch),
    ]);
  }, 90_000);

  it('the Nest app answers a valid proxy key with its caller, a deleted key 401, a billing key 403', async () => {
    const valid = await createProxyKey();
    const deleted = await createProxyKey();
    expect((await api.delete(`/api/keys/${deleted.id}`)).status).toBe(200);
    await settled(valid.key, 'VALID');
    await settled(deleted.key, 'DELETED');
    const { match } = await start('dist/main.js', /^listening on http:\/\/.*:(\d+)$/);
    const whoami = (key: string) => fetch(`http://127.0.0.1:${match[1]}/v1/whoami`, { headers: { authorization: `Bearer ${key}` } });

    const ok = await whoami(valid.key);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ key: { id: valid.id, accountId, type: 'proxy', name: 'Packaged', prefix: valid.prefix, expiresAt: null } });

    const gone = await whoami(deleted.key);
    expect(gone.status).toBe(401);
    expect(await gone.json()).toEqual({ error: { type: 'authentication_error', code: 'invalid_api_key', message: expect.any(String) } });

    const billing = await whoami(billingKey);
    expect(billing.status).toBe(403);
    expect(await billing.json()).toEqual({ error: { type: 'permission_error', code: 'wrong_key_type', message: expect.any(String) } });
  });

  it('verifyKey from a plain Node script, and verifyWithClient through a Nest ClientProxy, give the verdicts', async () => {
    const created = await createProxyKey();
    await settled(created.key, 'VALID');
    const identity = { id: created.id, accountId, type: 'proxy', name: 'Packaged', prefix: created.prefix, expiresAt: null };
    expect(JSON.parse(await node('dist/verify.js', created.key, 'proxy'))).toEqual({ valid: true, code: 'VALID', status: 200, key: identity });
    expect(JSON.parse(await node('dist/verify.js', billingKey, 'proxy'))).toEqual({ valid: false, code: 'WRONG_TYPE', status: 403 });
    expect(JSON.parse(await node('dist/check-client-proxy.js', created.key, 'proxy'))).toEqual({ valid: true, code: 'VALID', status: 200, key: identity });
    expect(JSON.parse(await node('dist/check-client-proxy.js', 'ms-nope', 'proxy'))).toEqual({ valid: false, code: 'MALFORMED', status: 401 });
  });

  it('the nats.js subscriber gets typed events on <prefix>.events.>', async () => {
    const { lines } = await start('dist/check-events.js', /^ready$/);
    const created = await createProxyKey();
    await waitFor(() => lines.some((line) => line.includes('"KeyCreated"') && line.includes(`"keyId":${created.id},`)), { timeoutMs: 5000, intervalMs: 20 });
    const event = JSON.parse(lines.find((line) => line.includes(`"keyId":${created.id},`))!);
    expect(event).toEqual({ type: 'KeyCreated', data: expect.objectContaining({ keyId: created.id, accountId, keyType: 'proxy', prefix: created.prefix }) });
  });
});
