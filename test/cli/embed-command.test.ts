import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { fixture, useTmp } from '../helpers/tmp.ts';
import { runCli } from '../helpers/cli.ts';

describe('track-embeddings embed (the default command)', () => {
  const tmp = useTmp();

  it('embeds a file in worker threads, prints one summary line and exits 0', () => {
    const out = tmp();
    const r = runCli(['embed', fixture('tracks-5k.parquet'), '--out', out, '--workers', '2', '--shard-rows', '2000']);
    expect(r.code).toBe(0);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(
      /^embedded 5,000 rows × 14 dims in [\d.]+ s \([\d,]+ rows\/s, 3 shard\(s\), 2 workers\) → .*\{spotify_vectors_14d\.npy, id_to_index\.json, id_index\.bin, manifest\.json\}$/,
    );
    expect(readdirSync(out).sort()).toEqual(['id_index.bin', 'id_to_index.json', 'manifest.json', 'spotify_vectors_14d.npy']);
    expect(readFileSync(join(out, 'id_to_index.json')).equals(readFileSync(fixture('tracks-5k.reference', 'id_to_index.json')))).toBe(true);
  });

  it('stays in-process for a small file unless told otherwise, with -o for --out and the same bytes', () => {
    const out = tmp();
    const r = runCli([fixture('tracks-5k.parquet'), '-o', out]);
    expect(r.code).toBe(0);
    expect(r.lines[0]).toMatch(/\(\S+ rows\/s, 1 shard\(s\), in-process\)/);
    expect(readFileSync(join(out, 'id_to_index.json')).equals(readFileSync(fixture('tracks-5k.reference', 'id_to_index.json')))).toBe(true);
  });

  it('caps --workers at the core count, with a note', () => {
    const out = tmp();
    const r = runCli([fixture('tracks-5k.parquet'), '--out', out, '--workers', '512']);
    expect(r.code).toBe(0);
    const cores = availableParallelism();
    expect(r.lines[0]).toBe(`note: --workers 512 is more than the ${cores} cores here; using ${cores}`);
    expect(r.lines[1]).toMatch(cores === 1 ? /in-process\)/ : new RegExp(`shard\\(s\\), ${cores} workers\\)`));
  });

  it('refuses bad input with exit 1 and one line naming the file and column, no stack trace', () => {
    const out = tmp();
    const r = runCli([fixture('bad', 'string-column.parquet'), '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: .*string-column\.parquet: column 'tempo': expected a number or boolean column, found string \(BYTE_ARRAY\)\n$/,
    );
    expect(readdirSync(out)).toEqual([]);
  });

  it.each([
    [['embed'], /^error: missing IN\.parquet$/],
    [['x.parquet'], /^error: missing -o\/--out DIR$/],
    [['x.parquet', '--out', 'o', '--workers', '0'], /^error: --workers must be an integer of at least 1, got '0'$/],
    [['x.parquet', '--out', 'o', '--bogus'], /^error: unknown option '--bogus'$/],
    [['x.parquet', '--out'], /^error: --out needs a value \(--out DIR\)$/],
  ])('exits 2 with one line and a pointer to the help for %j', (args, message) => {
    const r = runCli(args);
    expect(r.code).toBe(2);
    expect(r.lines).toHaveLength(2);
    expect(r.lines[0]).toMatch(message);
    expect(r.lines[1]).toBe("see 'track-embeddings embed --help'");
  });

  it('refuses a malformed spec file with exit 1 and the spec’s path', () => {
    const dir = tmp();
    const spec = join(dir, 'spec.json');
    writeFileSync(spec, JSON.stringify({ features: [{ column: 'tempo', weight: 'heavy' }] }));
    const r = runCli([fixture('tracks-5k.parquet'), '--out', dir, '--spec', spec]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/spec\.json: features\[0\]\.weight must be a finite number/);
  });
});
