/** `npm run simulate` refuses a bad option in one line on stderr with its usage, exit 2: no stack trace. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const run = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'bench/simulate.ts', ...args], { encoding: 'utf8', timeout: 60_000 });

describe('npm run simulate', () => {
  it.each([
    [['--bogus'], /^simulate: Unknown option '--bogus'\n/],
    [['--rows', '1e8x'], /^simulate: --rows must be a positive whole number, got '1e8x'\n/],
    [['--rows', '1e6', '--repeats', '1'], /^simulate: --repeats is the share of repeated ids, from 0 up to \(not including\) 1, got '1'\n/],
    [['--rows', '1e6', '--concurrency', '0'], /^simulate: --concurrency must be a positive whole number, got '0'\n/],
    [['--rows', '1e6', '--platform', 'gcp'], /^simulate: --platform is aws or local, got 'gcp'\n/],
  ])('refuses %j', (args, message) => {
    const r = run(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/\nusage: npm run simulate -- --rows /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });

  it('prints its usage for --help, exit 0', () => {
    const r = run('--help');
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/^usage: npm run simulate -- --rows 1e8,1e9/);
  });
});
