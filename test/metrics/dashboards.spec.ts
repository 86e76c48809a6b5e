import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

// The dashboard and the alerts name only metrics some app defines (a renamed metric would leave an empty panel
// or an alert that can never fire).

const root = join(__dirname, '..', '..');
/** Metrics the dashboard shows once their owners add them (see docs/operations.md); absent series draw nothing. */
const PENDING = new Set<string>();

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sources(full);
    return entry.name.endsWith('.ts') && !/\.(e2e-|int\.)?spec\.ts$/.test(entry.name) ? [full] : [];
  });
}

const defined = new Set(
  [...sources(join(root, 'apps')), ...sources(join(root, 'libs'))].flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/name: '((?:keys|http)_[a-z_]+)'/g)].map((m) => m[1])),
);

function referenced(text: string): string[] {
  const names = [...text.matchAll(/\b((?:keys|http)_[a-z_]+)/g)].map((m) => m[1].replace(/_(bucket|count|sum)$/, ''));
  return [...new Set(names)];
}

describe('dashboards and alerts', () => {
  it('define the HTTP and key metrics they use', () => {
    expect(defined).toContain('http_requests_total');
    expect(defined).toContain('keys_relay_lag_seconds');
  });

  it.each(['deploy/grafana/keys.json', 'deploy/prometheus/alerts.yml'])('%s uses only defined metrics', (file) => {
    const text = readFileSync(join(root, file), 'utf8');
    const unknown = referenced(text).filter((name) => !defined.has(name) && !PENDING.has(name));
    expect(unknown).toEqual([]);
  });

  it('the dashboard is provisioned against the datasource Grafana is given', () => {
    const dashboard = JSON.parse(readFileSync(join(root, 'deploy/grafana/keys.json'), 'utf8')) as { panels: Array<{ datasource?: { uid: string } }> };
    const datasource = readFileSync(join(root, 'deploy/grafana/provisioning/datasources/prometheus.yml'), 'utf8');
    const uids = new Set(dashboard.panels.flatMap((panel) => (panel.datasource ? [panel.datasource.uid] : [])));
    expect([...uids]).toEqual([/uid: (\S+)/.exec(datasource)?.[1]]);
  });
});
