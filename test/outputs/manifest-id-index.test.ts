/** manifest.json's optional outputs.idIndex: a file of the folder when present; folders written before it still load. */
import { describe, expect, it } from 'vitest';
import { checkManifest, OutputFolderError } from '../../lib/outputs/manifest-check.ts';
import { buildManifest } from '../../lib/outputs/manifest.ts';
import { DEFAULT_SPEC } from '../../lib/embedding/spec.ts';

const manifest = (idIndex?: string) =>
  JSON.parse(
    JSON.stringify(
      buildManifest({
        input: { name: 't.parquet', bytes: 1, rows: 3, rowGroups: 1, createdBy: null },
        spec: DEFAULT_SPEC,
        scaler: { count: Array(11).fill(3), mean: Array(11).fill(0), variance: Array(11).fill(1), scale: Array(11).fill(1) },
        repeatedIds: false,
        shards: { count: 1, targetRows: 3 },
        timingsMs: {},
        ...(idIndex !== undefined && { idIndex }),
      }),
    ),
  ) as Record<string, unknown>;

describe('outputs.idIndex in the manifest', () => {
  it('is optional, and names a file of the folder when present', () => {
    expect(checkManifest(manifest(), 'm').outputs.idIndex).toBeUndefined();
    expect(checkManifest(manifest('id_index.bin'), 'm').outputs.idIndex).toBe('id_index.bin');
  });

  it.each([['../id_index.bin'], ['a/b.bin'], ['id_to_index.json'], ['spotify_vectors_14d.npy']])('refuses %s', (name) => {
    expect(() => checkManifest(manifest(name), 'm')).toThrow(OutputFolderError);
    expect(() => checkManifest(manifest(name), 'm')).toThrow(/outputs\.idIndex: expected the name of another file/);
  });
});
