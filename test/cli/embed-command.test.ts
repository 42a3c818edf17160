import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { fixture, useTmp } from '../helpers/tmp.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** Runs the command line as `npm start --` does, with stderr not a terminal. */
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bin', 'embed.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('command line', () => {
  const tmp = useTmp();

  it('embeds a file, prints one summary line and exits 0', () => {
    const out = tmp();
    const r = cli(fixture('tracks-5k.parquet'), '--out', out, '--workers', '2', '--shard-rows', '2000');
    expect(r.code).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^embedded 5,000 rows × 14 dims in [\d.]+ s \([\d,]+ rows\/s, 3 shard\(s\), 2 worker\(s\)\) → .*\{spotify_vectors_14d\.npy, id_to_index\.json, manifest\.json\}$/,
    );
    expect(readdirSync(out).sort()).toEqual(['id_to_index.json', 'manifest.json', 'spotify_vectors_14d.npy']);
  });

  it('caps --workers at the core count, with a note', () => {
    const out = tmp();
    const r = cli(fixture('tracks-5k.parquet'), '--out', out, '--workers', '512');
    expect(r.code).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^note: --workers 512 is more than the \d+ cores here; using \d+$/);
    expect(lines[1]).toMatch(new RegExp(`\\(\\d[\\d,]* rows/s, \\d+ shard\\(s\\), ${availableParallelism()} worker\\(s\\)\\)`));
  });

  it('refuses bad input with exit 1 and one line naming the file and column, no stack trace', () => {
    const out = tmp();
    const r = cli(fixture('bad', 'string-column.parquet'), '--out', out);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: .*string-column\.parquet: column 'tempo': expected a number or boolean column, found string \(BYTE_ARRAY\)\n$/,
    );
    expect(readdirSync(out)).toEqual([]);
  });

  it.each([
    [[], /missing the input Parquet file/],
    [['x.parquet'], /missing --out DIR/],
    [['x.parquet', '--out', 'o', '--workers', '0'], /--workers must be a positive integer/],
    [['x.parquet', '--out', 'o', '--bogus'], /Unknown option '--bogus'/],
  ])('exits 2 with the usage for %j', (args, message) => {
    const r = cli(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/usage: npm start -- IN\.parquet --out DIR/);
  });

  it('refuses a malformed spec file with exit 1 and the spec’s path', () => {
    const dir = tmp();
    const spec = join(dir, 'spec.json');
    writeFileSync(spec, JSON.stringify({ features: [{ column: 'tempo', weight: 'heavy' }] }));
    const r = cli(fixture('tracks-5k.parquet'), '--out', dir, '--spec', spec);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/spec\.json: features\[0\]\.weight must be a finite number/);
  });
});
