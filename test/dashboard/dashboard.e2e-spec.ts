import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { INestApplication } from '@nestjs/common';
import AxeBuilder from '@axe-core/playwright';
import { type Browser, type BrowserContext, type Locator, type Page, chromium } from 'playwright-core';
import { type TestContext, createTestContext } from '@keys/testing';
import { createProjectorApp } from '../../apps/projector/src/main';
import { readProjectorConfig } from '../../apps/projector/src/projector.config';
import { type RunningCommandApp, apiClient, openKeyService, operator, startCommandApp } from '../fixtures/command-app.fixture';
import { type RunningVerifierApp, type VerifyClient, startVerifierApp, verifyClient } from '../fixtures/verifier-app.fixture';

// The customer dashboard (docs/dashboard.md) in a real Chromium against the real command app, projector and
// verifier: every click goes through the HTTP API, and what the verifier answers over NATS is checked after each
// change. The command app serves a build of apps/dashboard made here, so the test never sees a stale dist/.

const CHROMIUM = '/usr/bin/chromium';
const ROOT = join(__dirname, '..', '..');
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(`dashboard browser tests skipped: ${CHROMIUM} is missing (apt-get install -y chromium; .ci/run installs it)`);
}
const describeInBrowser = haveChromium ? describe : describe.skip;

// Screenshots for docs/dashboard.md: written there with DASHBOARD_SCREENSHOTS=1, otherwise to a temporary folder
// (still taken, so the step keeps working, without touching the work tree on every run).
const KEEP_SCREENSHOTS = process.env.DASHBOARD_SCREENSHOTS === '1';

async function buildDashboard(outDir: string): Promise<void> {
  const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  await promisify(execFile)(process.execPath, [vite, 'build', '--config', 'apps/dashboard/vite.config.mts', '--outDir', outDir, '--emptyOutDir'], {
    cwd: ROOT,
    timeout: 60_000,
  });
}

/** axe-core on the page as it is: no serious or critical violation. */
async function expectAccessible(page: Page, what: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const summary = bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect({ page: what, violations: summary }).toEqual({ page: what, violations: [] });
}

/** Evaluates an expression in the page (as text: the tests' tsconfig has no DOM types). */
function inPage<T = unknown>(page: Page, expression: string): Promise<T> {
  return page.evaluate(expression) as Promise<T>;
}

function rowOf(page: Page, name: string): Locator {
  return page.getByRole('row').filter({ has: page.getByRole('rowheader', { name, exact: true }) });
}

describeInBrowser('customer dashboard in a real browser', () => {
  let ctx: TestContext;
  let command: RunningCommandApp;
  let projector: INestApplication;
  let verifier: RunningVerifierApp;
  let client: VerifyClient;
  let store: Awaited<ReturnType<typeof openKeyService>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let billingKey: string;
  let billingKeyId: number;
  let api: ReturnType<typeof apiClient>;
  let outDir: string;
  let SCREENSHOTS: string;
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'dashboard-build-'));
    SCREENSHOTS = KEEP_SCREENSHOTS ? join(ROOT, 'docs', 'screenshots') : mkdtempSync(join(tmpdir(), 'dashboard-shots-'));
    mkdirSync(SCREENSHOTS, { recursive: true });
    ctx = await createTestContext();
    const [, launched] = await Promise.all([
      buildDashboard(outDir),
      chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      }),
    ]);
    browser = launched;
    process.env.DASHBOARD_DIR = outDir;
    command = await startCommandApp(ctx, { runExpirySweep: false });
    projector = await createProjectorApp(
      readProjectorConfig({ DATABASE_URL: ctx.databaseUrl, NATS_URL: ctx.natsUrl, KEYS_STREAM: ctx.streamName, KEYS_SUBJECT_PREFIX: ctx.subjectPrefix }),
      { quiet: true },
    );
    await projector.init();
    verifier = await startVerifierApp(ctx);
    await verifier.serving();
    client = await verifyClient(ctx);
    store = await openKeyService(ctx);
    const account = await store.keys.createAccount('Acme', operator);
    billingKey = account.billingKey.key;
    billingKeyId = account.billingKey.state.keyId;
    api = apiClient(command.baseUrl, billingKey);

    // A fresh profile (default launch), a time zone away from UTC so the expiry conversion shows.
    context = await browser.newContext({ timezoneId: 'Europe/Berlin', locale: 'en-GB', viewport: { width: 1280, height: 800 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: command.baseUrl });
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
    await page.addInitScript(
      "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI))",
    );
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /CSP violation|Content Security Policy/i.test(msg.text())) cspViolations.push(msg.text());
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
  }, 90_000);

  afterAll(async () => {
    delete process.env.DASHBOARD_DIR;
    await browser?.close();
    await client?.close();
    await verifier?.close();
    await command?.close();
    await projector?.close();
    await store?.close();
    await ctx?.dispose();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
    if (SCREENSHOTS && !KEEP_SCREENSHOTS) rmSync(SCREENSHOTS, { recursive: true, force: true });
  });

  afterEach(() => {
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  });

  it('serves the build at /dashboard/ with a strict Content-Security-Policy', async () => {
    const res = await fetch(`${command.baseUrl}/dashboard/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    const directives = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
    expect(directives['default-src']).toEqual(["'self'"]);
    expect(directives['script-src']).toEqual(["'self'"]);
    expect(directives['object-src']).toEqual(["'none'"]);
    expect(directives['frame-ancestors']).toEqual(["'none'"]);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|wasm-unsafe-eval|\*|https?:|data:/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');

    const html = await res.text();
    // Every script is a file of this origin: none inline, none elsewhere.
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/src="\/dashboard\/assets\/[^"]+\.js"/);
      expect(body.trim()).toBe('');
    }
    expect(html).not.toMatch(/\sstyle=|\son[a-z]+=/i);

    const asset = html.match(/src="(\/dashboard\/assets\/[^"]+\.js)"/)![1];
    const script = await fetch(`${command.baseUrl}${asset}`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-security-policy')).toBe(csp);
    expect(await script.text()).not.toMatch(/\beval\(|new Function\(/);

    const bare = await fetch(`${command.baseUrl}/dashboard`, { redirect: 'manual' });
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/dashboard/');
    // The API next door is unchanged: no dashboard headers there.
    expect((await api.get('/api/keys')).headers.get('content-security-policy')).toBeNull();
  });

  it('signs in with a billing key, and shows the API\'s message for a wrong one', async () => {
    await page.goto(`${command.baseUrl}/dashboard/`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Sign in');
    await expectAccessible(page, 'sign in');
    await page.screenshot({ path: join(SCREENSHOTS, 'sign-in.png') });

    const refusal = await apiClient(command.baseUrl, 'mk-not-a-real-key').get('/api/billing-keys');
    expect(refusal.status).toBe(401);
    await page.getByLabel('Billing key').fill('mk-not-a-real-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toBe(refusal.body.error.message);

    await page.getByLabel('Billing key').fill(billingKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'API Keys' }).waitFor();
    // The billing key is in sessionStorage (this tab only), never in the URL.
    expect(page.url()).not.toContain(billingKey);
    expect(await inPage(page, 'Object.values(sessionStorage)')).toEqual([billingKey]);
    expect(await inPage(page, 'localStorage.length')).toBe(0);
  });

  it('walks a key through its life: create, copy, deactivate, activate, expiry, rotate, delete', async () => {
    await page.getByRole('link', { name: 'API Keys' }).click();
    await page.getByRole('heading', { level: 1, name: 'API Keys' }).waitFor();
    await expectAccessible(page, 'API keys (empty)');

    // Create: the one-time dialog shows the full key; Copy puts it on the clipboard.
    await page.getByRole('button', { name: 'Create key' }).click();
    const create = page.getByRole('dialog', { name: 'Create API key' });
    await create.waitFor();
    await expectAccessible(page, 'create dialog');
    await create.getByLabel('Name').fill('Production');
    await create.getByRole('button', { name: 'Create' }).click();
    const secret = page.getByRole('dialog', { name: 'Your new key' });
    await secret.waitFor();
    await expect(secret.textContent()).resolves.toContain('it will not be shown again');
    const shown = (await secret.locator('code[data-secret]').textContent())!.trim();
    expect(shown).toMatch(/^ms-/);
    await secret.getByRole('button', { name: 'Copy' }).click();
    await secret.getByText('Copied to the clipboard.').waitFor();
    const copied = await inPage<string>(page, 'navigator.clipboard.readText()');
    expect(copied).toBe(shown);
    await expectAccessible(page, 'new key dialog');
    await page.screenshot({ path: join(SCREENSHOTS, 'new-key.png'), mask: [secret.locator('code[data-secret]')], maskColor: '#9ca3af' });

    // The copied key is VALID on the verifier.
    expect((await client.verify(copied, 'proxy')).code).toBe('VALID');
    await secret.getByRole('button', { name: 'Done' }).click();
    await secret.waitFor({ state: 'detached' });
    // Focus goes back to the button that started it.
    await expect(inPage(page, 'document.activeElement?.textContent')).resolves.toBe('Create key');

    const row = rowOf(page, 'Production');
    await expect(row.getByRole('cell').nth(0).textContent()).resolves.toBe(`${copied.slice(0, 8)}…`);
    await expect(row.locator('.badge').textContent()).resolves.toBe('active');

    // Deactivate: the verifier says INACTIVE; activate: VALID again.
    await row.getByRole('button', { name: 'Deactivate', exact: true }).click();
    await row.getByRole('button', { name: 'Activate', exact: true }).waitFor();
    await expect(row.locator('.badge').textContent()).resolves.toBe('inactive');
    expect((await client.verify(copied, 'proxy')).code).toBe('INACTIVE');
    await row.getByRole('button', { name: 'Activate', exact: true }).click();
    await row.getByRole('button', { name: 'Deactivate', exact: true }).waitFor();
    await expect(row.locator('.badge').textContent()).resolves.toBe('active');
    expect((await client.verify(copied, 'proxy')).code).toBe('VALID');

    // Expiry in the user's time zone (Berlin, UTC+1 in January) is sent as UTC; then cleared.
    await row.getByRole('button', { name: 'Expiry' }).click();
    const expiry = page.getByRole('dialog', { name: 'Expiry of “Production”' });
    await expiry.getByLabel('Expires').fill('2031-01-15T10:30');
    await expiry.getByRole('button', { name: 'Save' }).click();
    await expiry.waitFor({ state: 'detached' });
    const withExpiry = (await api.get('/api/keys')).body.keys.find((k: { name: string }) => k.name === 'Production');
    expect(withExpiry.expiresAt).toBe('2031-01-15T09:30:00.000Z');
    await expect(row.locator('time').nth(1).getAttribute('datetime')).resolves.toBe('2031-01-15T09:30:00.000Z');
    await row.getByRole('button', { name: 'Expiry' }).click();
    await expect(expiry.getByLabel('Expires').inputValue()).resolves.toBe('2031-01-15T10:30');
    await expiry.getByRole('button', { name: 'Clear expiry' }).click();
    await expiry.waitFor({ state: 'detached' });
    expect((await api.get(`/api/keys/${withExpiry.id}`)).body.expiresAt).toBeNull();

    // Rename.
    await row.getByRole('button', { name: 'Rename' }).click();
    const rename = page.getByRole('dialog', { name: 'Rename “Production”' });
    await rename.getByLabel('Name').fill('Production EU');
    await rename.getByRole('button', { name: 'Save' }).click();
    await rename.waitFor({ state: 'detached' });
    const renamed = rowOf(page, 'Production EU');
    await renamed.waitFor();

    // Rotate with a one-hour overlap: a new key, shown once; the old one keeps working and now expires.
    await renamed.getByRole('button', { name: 'Rotate' }).click();
    const rotate = page.getByRole('dialog', { name: 'Rotate “Production EU”' });
    await rotate.getByLabel('Old key keeps working for').selectOption({ label: '1 hour' });
    await expectAccessible(page, 'rotate dialog');
    const before = Date.now();
    await rotate.getByRole('button', { name: 'Rotate' }).click();
    const rotated = page.getByRole('dialog', { name: 'Your rotated key' });
    const newKey = (await rotated.locator('code[data-secret]').textContent())!.trim();
    expect(newKey).not.toBe(copied);
    expect((await client.verify(newKey, 'proxy')).code).toBe('VALID');
    expect((await client.verify(copied, 'proxy')).code).toBe('VALID');
    await rotated.getByRole('button', { name: 'Done' }).click();
    await rotated.waitFor({ state: 'detached' });
    const keys = (await api.get('/api/keys')).body.keys as { id: number; prefix: string; expiresAt: string | null }[];
    const old = keys.find((k) => k.prefix === copied.slice(0, 8))!;
    const fresh = keys.find((k) => k.prefix === newKey.slice(0, 8))!;
    expect(Date.parse(old.expiresAt!) - before).toBeGreaterThan(3590_000);
    expect(Date.parse(old.expiresAt!) - before).toBeLessThan(3610_000);
    expect(await page.getByRole('rowheader', { name: 'Production EU', exact: true }).count()).toBe(2);
    await page.screenshot({ path: join(SCREENSHOTS, 'api-keys.png') });

    // Delete the new key, after a confirmation naming it.
    const freshRow = page.getByRole('row').filter({ hasText: `${fresh.prefix}…` });
    await freshRow.getByRole('button', { name: 'Delete' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete “Production EU”?' });
    await expect(confirm.textContent()).resolves.toContain(`${fresh.prefix}…`);
    await expectAccessible(page, 'delete dialog');
    await page.screenshot({ path: join(SCREENSHOTS, 'delete-key.png') });
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await confirm.waitFor({ state: 'detached' });
    await freshRow.waitFor({ state: 'detached' });
    expect((await client.verify(newKey, 'proxy')).code).toBe('DELETED');
    expect((await client.verify(copied, 'proxy')).code).toBe('VALID');
    await expect(page.getByRole('status').textContent()).resolves.toContain('Deleted “Production EU”');
    await expectAccessible(page, 'API keys');

    // The security log shows it all, newest first, with the browser's IP address.
    await page.getByRole('link', { name: 'Security log' }).click();
    await page.getByRole('heading', { level: 1, name: 'Security log' }).waitFor();
    const rows = page.getByRole('table').locator('tbody tr');
    await rows.first().waitFor();
    const actions = await rows.locator('td:nth-child(2)').allTextContents();
    expect(actions).toEqual([
      'Key deleted',
      // The roll: the old key's expiry moved to now + overlap, then the new key.
      'Expiry set',
      'Key created',
      'Key renamed',
      'Expiry set',
      'Expiry set',
      'Key reactivated',
      'Key deactivated',
      'Key created',
      // The account's billing key, by the operator.
      'Key created',
    ]);
    await expect(rows.last().locator('td').nth(4).textContent()).resolves.toContain('by operator test');
    await expect(rows.last().locator('td').nth(3).textContent()).resolves.toBe('—');
    const first = rows.first();
    await expect(first.locator('td').nth(2).textContent()).resolves.toContain(`Production EU ${fresh.prefix}…`);
    await expect(first.locator('td').nth(3).textContent()).resolves.toBe('127.0.0.1');
    await expect(first.locator('td').nth(4).textContent()).resolves.toContain(`by billing key #${billingKeyId}`);
    await expectAccessible(page, 'security log');
    await page.screenshot({ path: join(SCREENSHOTS, 'security-log.png') });
  });

  it('keeps only the prefix once the one-time dialog is closed: not in the DOM, not in any storage', async () => {
    await page.getByRole('link', { name: 'API Keys' }).click();
    await page.getByRole('button', { name: 'Create key' }).click();
    const create = page.getByRole('dialog', { name: 'Create API key' });
    await create.getByLabel('Name').fill('Staging');
    await create.getByRole('button', { name: 'Create' }).click();
    const secret = page.getByRole('dialog', { name: 'Your new key' });
    const key = (await secret.locator('code[data-secret]').textContent())!.trim();
    expect(await page.content()).toContain(key);
    await secret.getByRole('button', { name: 'Done' }).click();
    await secret.waitFor({ state: 'detached' });
    await rowOf(page, 'Staging').waitFor();

    const everything = await inPage<{ html: string; text: string; values: string[]; title: string; url: string; local: string[][]; session: string[][] }>(
      page,
      `({
        html: document.documentElement.outerHTML,
        text: document.body.innerText,
        values: [...document.querySelectorAll('input, textarea, select')].map((el) => el.value),
        title: document.title,
        url: location.href,
        local: Object.entries(localStorage),
        session: Object.entries(sessionStorage),
      })`,
    );
    const tail = key.slice(8);
    for (const where of [everything.html, everything.text, everything.title, everything.url, ...everything.values]) {
      expect(where).not.toContain(tail);
    }
    expect(everything.html).toContain(`${key.slice(0, 8)}…`);
    expect(everything.local).toEqual([]);
    expect(everything.session.map(([, value]) => value)).toEqual([billingKey]);
    const cookies = await context.cookies();
    expect(cookies).toEqual([]);
    // IndexedDB and Cache Storage stay unused too.
    expect(await inPage(page, '(async () => ({ dbs: (await indexedDB.databases()).length, caches: (await caches.keys()).length }))()')).toEqual({ dbs: 0, caches: 0 });
  });

  it('shows the API\'s refusal when the last billing key is to be deleted or deactivated', async () => {
    const refusal = await api.delete(`/api/billing-keys/${billingKeyId}`);
    expect(refusal.status).toBe(409);
    expect(refusal.body.error.code).toBe('last_billing_key');

    await page.getByRole('link', { name: 'Billing Keys' }).click();
    await page.getByRole('heading', { level: 1, name: 'Billing Keys' }).waitFor();
    const billingRow = page.getByRole('row').filter({ has: page.getByRole('button', { name: 'Delete' }) });
    await billingRow.waitFor();
    await expectAccessible(page, 'billing keys');
    await page.screenshot({ path: join(SCREENSHOTS, 'billing-keys.png') });

    await billingRow.getByRole('button', { name: 'Delete' }).click();
    const confirm = page.getByRole('dialog');
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await expect(confirm.getByRole('alert').textContent()).resolves.toBe(refusal.body.error.message);
    await expectAccessible(page, 'refused delete');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached' });

    await billingRow.getByRole('button', { name: 'Deactivate', exact: true }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    await expect(alert.textContent()).resolves.toMatch(/billing key/i);
    expect((await client.verify(billingKey, 'billing')).code).toBe('VALID');
  });

  it('pages the security log with the before cursor', async () => {
    // 45 more entries, 5 at a time: the log now has more than one page of 50.
    for (let batch = 0; batch < 9; batch++) {
      const created = await Promise.all([0, 1, 2, 3, 4].map((i) => api.post('/api/keys', { name: `Bulk ${batch * 5 + i}` })));
      expect(created.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    }
    const all: { id: number; details: { name: string; prefix: string } }[] = [];
    for (let before: number | undefined; ; ) {
      const logs = (await api.get(`/api/security-log?limit=50${before ? `&before=${before}` : ''}`)).body.logs as typeof all;
      all.push(...logs);
      if (logs.length < 50) break;
      before = logs[logs.length - 1].id;
    }
    expect(all.length).toBeGreaterThan(50);

    await page.getByRole('link', { name: 'Security log' }).click();
    await page.getByRole('heading', { level: 1, name: 'Security log' }).waitFor();
    const rows = page.getByRole('table').locator('tbody tr');
    await page.getByRole('status').filter({ hasText: 'Page 1: 50 entries.' }).waitFor();
    await expect(rows.first().locator('td').nth(2).textContent()).resolves.toContain(`${all[0].details.name} ${all[0].details.prefix}…`);
    await expect(page.getByRole('button', { name: 'Newer entries' }).isDisabled()).resolves.toBe(true);

    await page.getByRole('button', { name: 'Older entries' }).click();
    await page.getByRole('status').filter({ hasText: `Page 2: ${all.length - 50} entries.` }).waitFor();
    await expect(rows.first().locator('td').nth(2).textContent()).resolves.toContain(`${all[50].details.name} ${all[50].details.prefix}…`);
    await expect(page.getByRole('button', { name: 'Older entries' }).isDisabled()).resolves.toBe(true);
    await expectAccessible(page, 'security log, page 2');

    await page.getByRole('button', { name: 'Newer entries' }).click();
    await page.getByRole('status').filter({ hasText: 'Page 1: 50 entries.' }).waitFor();
  });

  it('is keyboard operable, and Sign out forgets the billing key', async () => {
    await page.getByRole('link', { name: 'API Keys' }).click();
    await page.getByRole('heading', { level: 1, name: 'API Keys' }).waitFor();
    await page.getByRole('button', { name: 'Create key' }).focus();
    await page.keyboard.press('Enter');
    const create = page.getByRole('dialog', { name: 'Create API key' });
    await create.waitFor();
    // Focus starts in the dialog's first field; Escape closes it and focus returns to the opener.
    await expect(inPage(page, "document.activeElement?.closest('dialog') !== null")).resolves.toBe(true);
    await page.keyboard.type('Keyboard');
    await page.keyboard.press('Escape');
    await create.waitFor({ state: 'detached' });
    await expect(inPage(page, 'document.activeElement?.textContent')).resolves.toBe('Create key');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    expect(await inPage(page, 'sessionStorage.length')).toBe(0);
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  });
});
