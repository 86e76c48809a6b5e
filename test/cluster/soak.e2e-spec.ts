import { spawn } from 'node:child_process';
import { join } from 'node:path';

// The fault soak as CI runs it: the whole system on a 3-node NATS cluster for 60 s with random faults, and the
// invariant checker's verdict (docs/operations.md, "Capacity and failover"). The script prints one summary line
// and exits non-zero on any violation.
const DURATION_S = Number(process.env.SOAK_DURATION_S ?? 60);

describe('fault soak', () => {
  it(`runs ${DURATION_S} s with faults and every counter stays at 0`, async () => {
    let output = '';
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'scripts/soak.ts', '--duration', String(DURATION_S), '--faults'], {
      cwd: join(__dirname, '..', '..'),
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk) => (output += String(chunk)));
    child.stderr.on('data', (chunk) => (output = (output + String(chunk)).slice(-20_000)));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const summary = output.split('\n').filter((line) => /^soak: \d+ s,/.test(line)).pop();
    console.log(summary ?? output.slice(-2000));
    expect(summary).toMatch(/^soak: \d+ s, \d+ writes, \d+ verifies, faults=[1-9]\d*, lost=0 duplicated=0 wrong_verdicts=0 model_mismatches=0$/);
    expect(code).toBe(0);
  }, (DURATION_S + 120) * 1000);
});
