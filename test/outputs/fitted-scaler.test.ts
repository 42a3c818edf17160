/**
 * `transform --fitted` reads a manifest's spec and scaler through the same check as a folder's
 * readers: an edited scaler is refused in one line, never applied (a short mean would make NaN
 * columns, scale 0 ±Inf, "0.5" a coerced number), and columns are matched by name.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SPEC, standardizedColumns } from '../../lib/embedding/spec.ts';
import type { Scaler } from '../../lib/embedding/stats.ts';
import { buildManifest, type Manifest } from '../../lib/outputs/manifest.ts';
import { fittedScaler, OutputFolderError } from '../../lib/outputs/manifest-check.ts';

const PATH = 'fit/manifest.json';
const columns = standardizedColumns(DEFAULT_SPEC);

/** A fitted scaler over the default spec: column i has mean i + 0.5 and scale i + 1; `empty` columns have no values. */
function scalerFactory(empty: readonly number[] = []): Scaler {
  return {
    count: columns.map((_, i) => (empty.includes(i) ? 0 : 100)),
    mean: columns.map((_, i) => (empty.includes(i) ? NaN : i + 0.5)),
    variance: columns.map((_, i) => (empty.includes(i) ? NaN : (i + 1) ** 2)),
    scale: columns.map((_, i) => (empty.includes(i) ? NaN : i + 1)),
  };
}

/** A manifest as `embed` writes it, as parsed JSON, with `edit` applied. */
function manifestJson(edit: (m: Manifest) => void = () => {}, empty: readonly number[] = []): unknown {
  const m = buildManifest({
    input: { name: 'tracks.parquet', bytes: 1000, rows: 100, rowGroups: 1, createdBy: null },
    spec: DEFAULT_SPEC,
    scaler: scalerFactory(empty),
    repeatedIds: false,
    shards: { count: 1, targetRows: 100 },
    timingsMs: {},
  });
  const json = JSON.parse(JSON.stringify(m)) as Manifest;
  edit(json);
  return json;
}

describe('the fitted scaler of a manifest', () => {
  it('is the manifest’s spec and scaler, null read as NaN', () => {
    const { spec, scaler } = fittedScaler(manifestJson(undefined, [3]), PATH);
    expect(spec).toEqual(DEFAULT_SPEC);
    expect(scaler).toEqual(scalerFactory([3]));
  });

  it('matches scaler.columns by name: a file listing them in another order gives each column its own values', () => {
    const reversed = manifestJson((m) => {
      for (const key of ['columns', 'count', 'mean', 'variance', 'scale'] as const) (m.scaler[key] as unknown[]).reverse();
    });
    expect(fittedScaler(reversed, PATH).scaler).toEqual(scalerFactory());
  });

  it.each<[string, (m: Manifest) => void, RegExp]>([
    ['a short mean', (m) => void m.scaler.mean.pop(), /scaler\.mean: expected 11 values \(one per scaler\.columns\), found an array of 10/],
    ['scale 0', (m) => void (m.scaler.scale[0] = 0), /scaler\.scale of 'danceability': expected a number above 0, found 0/],
    [
      'a mean as a string',
      (m) => void Object.assign(m.scaler.mean, { 1: '0.5' }),
      /scaler\.mean of 'energy': expected a finite number \(100 values were counted\), found "0\.5"/,
    ],
    [
      'a column renamed',
      (m) => void (m.scaler.columns[10] = 'release_year'),
      /scaler\.columns: no 'year'; 'release_year' not standardised by the spec \(.*\)/,
    ],
    [
      'manifestVersion 2',
      (m) => void Object.assign(m, { manifestVersion: 2 }),
      /manifestVersion: expected 1 \(the only version this tool reads\), found 2/,
    ],
    ['a spec of no features', (m) => void (m.spec.features = []), /spec: 'features' must be a non-empty array/],
  ])('refuses %s, naming the file', (_label, edit, problem) => {
    const json = manifestJson(edit);
    expect(() => fittedScaler(json, PATH)).toThrow(OutputFolderError);
    expect(() => fittedScaler(json, PATH)).toThrow(new RegExp(`^${PATH}: ${problem.source}$`));
  });

  it.each([null, [], { hello: 1 }, { spec: DEFAULT_SPEC }])('refuses %j: not a manifest', (json) => {
    expect(() => fittedScaler(json, PATH)).toThrow(new OutputFolderError(`${PATH}: not a track-embeddings manifest (no spec or scaler)`));
  });
});
