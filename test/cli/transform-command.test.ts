/** `track-embeddings transform`: new tracks with a fitted scaler, bit-identical to scikit-learn's transform (test/fixtures/transform/make_transform.py). */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, useTmp } from '../helpers/tmp.ts';
import { runCli } from '../helpers/cli.ts';
import { vectorsDigest } from '../helpers/adversarial.ts';
import { writeParquet } from '../helpers/parquet-write.ts';
import { tracksTable } from '../helpers/tracks-table.ts';

const expected = JSON.parse(readFileSync(fixture('transform', 'expected.json'), 'utf8')) as Record<
  string,
  { rows: number; vectorsSha256: string }
>;

describe('track-embeddings transform', () => {
  const tmp = useTmp();

  it.each(Object.keys(expected))('%s with the scaler fitted on the 5k fixture: scikit-learn’s transform, bit for bit', (name) => {
    const fitted = tmp();
    expect(runCli([fixture('tracks-5k.parquet'), '-o', fitted]).code).toBe(0);
    const out = tmp();
    const r = runCli(['transform', fixture(name), '--fitted', join(fitted, 'manifest.json'), '-o', out]);
    expect(r.stderr).toMatch(new RegExp(`^transformed ${expected[name]!.rows} rows × 14 dims with the scaler of .*manifest\\.json`));
    expect(r.code).toBe(0);
    expect(vectorsDigest(readFileSync(join(out, 'spotify_vectors_14d.npy')))).toBe(expected[name]!.vectorsSha256);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { fittedFrom: string; scaler: { mean: number[] } };
    expect(manifest.fittedFrom).toBe(join(fitted, 'manifest.json'));
    const fit = JSON.parse(readFileSync(join(fitted, 'manifest.json'), 'utf8')) as { scaler: { mean: number[] } };
    expect(manifest.scaler.mean).toEqual(fit.scaler.mean);
  });

  it('refuses a --fitted file that is not a manifest, in one line', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'manifest.json'), '{"hello": 1}');
    const r = runCli(['transform', fixture('tracks-5k.parquet'), '--fitted', join(dir, 'manifest.json'), '-o', join(dir, 'out')]);
    expect(r.code).toBe(1);
    expect(r.lines).toEqual([`error: ${join(dir, 'manifest.json')}: not a track-embeddings manifest (no spec or scaler)`]);
  });

  it('needs --fitted', () => {
    const r = runCli(['transform', fixture('tracks-5k.parquet'), '-o', tmp()]);
    expect(r.code).toBe(2);
    expect(r.lines).toEqual(['error: missing --fitted DIR (or DIR/manifest.json)', "see 'track-embeddings transform --help'"]);
  });

  it.each([
    [
      'tempo',
      Infinity,
      'row 37 is Infinity: infinite values cannot be standardised (scikit-learn refuses them: "Input X contains infinity")',
    ],
    [
      'loudness',
      -Infinity,
      'row 37 is -Infinity: infinite values cannot be standardised (scikit-learn refuses them: "Input X contains infinity")',
    ],
    [
      'year',
      1e300,
      /^row 37 is 1e\+300: standardised \(fitted mean -?[\d.e+-]+, scale [\d.e+-]+\) it is [\d.e+]+, beyond float32's range \(±3\.4e38\)$/,
    ],
    ['tempo', -5e38, /^row 37 is -5e\+38: standardised \(fitted mean .*, weight 1\) it is -[\d.e+]+, beyond float32's range/],
  ])('refuses %s = %s in the new file, naming the column and row, and leaves no outputs', (column, value, problem) => {
    const dir = tmp();
    writeParquet(tracksTable(60), join(dir, 'fit.parquet'));
    expect(runCli([join(dir, 'fit.parquet'), '-o', join(dir, 'fitted')]).code).toBe(0);
    const input = join(dir, 'new.parquet');
    writeParquet(tracksTable(50, { seed: 9, set: { [column]: [[37, value]] } }), input, { rowGroupRows: 20 });
    const out = join(dir, 'out');
    const r = runCli(['transform', input, '--fitted', join(dir, 'fitted', 'manifest.json'), '-o', out]);
    expect(r.code).toBe(1);
    expect(r.lines).toHaveLength(1);
    const prefix = `error: ${input}: column '${column}': `;
    expect(r.lines[0]!.startsWith(prefix)).toBe(true);
    expect(r.lines[0]!.slice(prefix.length)).toMatch(problem);
    expect(readdirSync(dir).includes('out') ? readdirSync(out) : []).toEqual([]);
  });

  it('words an infinite value as embed does', () => {
    const dir = tmp();
    writeParquet(tracksTable(60), join(dir, 'fit.parquet'));
    expect(runCli([join(dir, 'fit.parquet'), '-o', join(dir, 'fitted')]).code).toBe(0);
    const input = join(dir, 'inf.parquet');
    writeParquet(tracksTable(50, { set: { tempo: [[12, Infinity]] } }), input);
    const embedded = runCli([input, '-o', join(dir, 'a')]);
    const transformed = runCli(['transform', input, '--fitted', join(dir, 'fitted', 'manifest.json'), '-o', join(dir, 'b')]);
    expect(embedded.code).toBe(1);
    expect(transformed.code).toBe(1);
    expect(transformed.lines).toEqual(embedded.lines);
  });
});
