import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runLocal } from '../../lib/local/runner.ts';
import { parseSpec } from '../../lib/embedding/spec.ts';
import { loadNpy } from '../helpers/npy-compare.ts';
import { fixture, useTmp } from '../helpers/tmp.ts';

describe('a custom feature spec', () => {
  const tmp = useTmp();

  it('gives its own dimension, and columns equal to the notebook’s for the same features', async () => {
    const spec = parseSpec({
      name: 'tempo-key-year',
      features: [{ column: 'tempo', standardize: true, weight: 1.0 }, { column: 'key' }, { column: 'year', standardize: true }],
    });
    const { manifest, vectorsPath } = await runLocal({ input: fixture('tracks-5k.parquet'), outDir: tmp(), spec, workers: 1 });
    expect(manifest.dims).toBe(3);
    expect(manifest.outputs.vectors).toBe('spotify_vectors_3d.npy');
    expect(manifest.spec.name).toBe('tempo-key-year');
    const got = loadNpy(vectorsPath);
    const ref = loadNpy(fixture('tracks-5k.reference', 'spotify_vectors_14d.npy'));
    expect([got.rows, got.cols]).toEqual([5000, 3]);
    const refCols = [3, 10, 13];
    for (let r = 0; r < got.rows; r++) {
      for (let c = 0; c < 3; c++) {
        if (!Object.is(got.data[r * 3 + c], ref.data[r * 14 + refCols[c]!])) {
          throw new Error(`row ${r}, column ${c}: ${got.data[r * 3 + c]} vs reference ${ref.data[r * 14 + refCols[c]!]}`);
        }
      }
    }
    expect(JSON.parse(readFileSync(vectorsPath.replace(/spotify_vectors_3d\.npy$/, 'manifest.json'), 'utf8')).dims).toBe(3);
  });
});
