import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runLocal } from '../../lib/local/runner.ts';
import { openIdIndex } from '../../lib/search/id-lookup.ts';
import { assertParity } from '../helpers/npy-compare.ts';
import { fixture, useTmp } from '../helpers/tmp.ts';

const FIXTURE = fixture('tracks-5k.parquet');
const REFERENCE = fixture('tracks-5k.reference');

describe('golden parity on the 5k fixture (5 row groups of 1,000)', () => {
  const tmp = useTmp();

  it.each([
    { name: '1 shard', shardRows: 5000, shards: 1 },
    { name: '5 shards', shardRows: 1000, shards: 5 },
    { name: 'shards that split row groups', shardRows: 300, shards: 20 },
  ])('$name: vectors at parity and the mapping byte-identical', async ({ shardRows, shards }) => {
    const out = tmp();
    const { manifest, vectorsPath, mappingPath } = await runLocal({ input: FIXTURE, outDir: out, shardRows, workers: 1 });
    expect(manifest.shards.count).toBe(shards);
    const parity = assertParity(vectorsPath, join(REFERENCE, 'spotify_vectors_14d.npy'));
    expect(parity.identical / parity.elements).toBeGreaterThanOrEqual(0.999);
    expect(readFileSync(mappingPath)).toEqual(readFileSync(join(REFERENCE, 'id_to_index.json')));
    expect(readdirSync(out).sort()).toEqual(['id_index.bin', 'id_to_index.json', 'manifest.json', 'spotify_vectors_14d.npy']);
  });

  it('gives the same outputs in workers with their default shards kept, ids repeated across shards and the index in 16 partitions', async () => {
    const input = fixture('edge', 'tricky-ids.parquet');
    const inline = await runLocal({ input, outDir: tmp(), workers: 1, idPartitionRows: 16 });
    const pooled = await runLocal({ input, outDir: tmp(), workers: 2, idPartitionRows: 16 });
    expect(pooled.workers).toBe(2);
    expect(pooled.manifest.shards.count).toBeGreaterThan(1);
    expect(pooled.manifest.outputs).toMatchObject({ repeatedIds: true });
    expect(readFileSync(pooled.vectorsPath).equals(readFileSync(inline.vectorsPath))).toBe(true);
    expect(readFileSync(pooled.mappingPath).equals(readFileSync(inline.mappingPath))).toBe(true);
    expect(readdirSync(dirname(pooled.mappingPath)).sort()).toEqual([
      'id_index.bin',
      'id_to_index.json',
      'manifest.json',
      'spotify_vectors_14d.npy',
    ]);
    // Pieces shortened by the repeats moved up in place: every id still finds its row, in either run.
    const mapping = Object.entries(JSON.parse(readFileSync(pooled.mappingPath, 'utf8')) as Record<string, number>);
    expect(mapping.length).toBe(pooled.manifest.outputs.uniqueIds);
    for (const run of [inline, pooled]) {
      const bytes = readFileSync(join(dirname(run.mappingPath), 'id_index.bin'));
      const lookup = await openIdIndex(
        { name: 'id_index.bin', size: bytes.length, read: async (o, n) => bytes.subarray(o, o + n) },
        run.manifest.input.rows,
        true,
      );
      for (const [id, row] of mapping) expect(await lookup.rowOf(id)).toBe(row);
      for (const [id, row] of mapping) expect(await lookup.idOf(row)).toBe(id);
    }
  });

  // The first run stays in-process, the others use two worker threads: where a task runs changes no byte.
  it.each([
    { file: 'tracks-5k.parquet', shardRows: [5000, 2000, 715], shards: [1, 3, 10] },
    { file: 'edge/many-rowgroups.parquet', shardRows: [1000, 370, 148], shards: [1, 3, 7] },
  ])('$file gives byte-identical outputs for $shards shards, in-process and in workers', async ({ file, shardRows, shards }) => {
    const runs = [];
    for (const [i, rows] of shardRows.entries()) {
      const r = await runLocal({ input: fixture(file), outDir: tmp(), shardRows: rows, workers: i === 0 ? 1 : 2 });
      expect(r.workers).toBe(i === 0 ? 1 : 2);
      runs.push({ shards: r.manifest.shards.count, npy: readFileSync(r.vectorsPath), json: readFileSync(r.mappingPath) });
    }
    expect(runs.map((r) => r.shards)).toEqual(shards);
    for (const r of runs.slice(1)) {
      expect(r.npy.equals(runs[0]!.npy)).toBe(true);
      expect(r.json.equals(runs[0]!.json)).toBe(true);
    }
  });

  it('records what it computed in the manifest', async () => {
    const { manifest, manifestPath } = await runLocal({ input: FIXTURE, outDir: tmp(), workers: 1 });
    expect(JSON.parse(readFileSync(manifestPath, 'utf8'))).toEqual(manifest);
    expect(manifest.input).toMatchObject({ rows: 5000, rowGroups: 5, bytes: readFileSync(FIXTURE).length });
    expect(manifest.outputs).toMatchObject({ shape: [5000, 14], dtype: 'float32', repeatedIds: false, uniqueIds: 5000 });
    expect(manifest.scaler.columns).toEqual([
      'danceability',
      'energy',
      'valence',
      'tempo',
      'acousticness',
      'instrumentalness',
      'liveness',
      'speechiness',
      'loudness',
      'popularity',
      'year',
    ]);
    expect(manifest.scaler.count).toEqual(new Array(11).fill(5000));
    for (const s of manifest.scaler.scale) expect(s).toBeGreaterThan(0);
  });
});
