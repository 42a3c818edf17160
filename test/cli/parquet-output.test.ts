import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { fixture, useTmp } from '../helpers/tmp.ts';
import { runCli } from '../helpers/cli.ts';
import { parseNpy } from '../../lib/search/embeddings.ts';

const tmp = useTmp();

/** embeddings.parquet as DuckDB reads it (an independent reader): id, row, vector as FLOAT[14]. */
async function readWithDuckDb(path: string): Promise<{ id: string; row: number; vector: number[] }[]> {
  const db = await DuckDBInstance.create(':memory:');
  try {
    const c = await db.connect();
    const r = await c.runAndReadAll(
      `select id, row, vector::FLOAT[14] as vector, typeof(vector) as t from read_parquet('${path}') order by row`,
    );
    const rows = r.getRowObjectsJson() as { id: string; row: string; vector: number[]; t: string }[];
    expect(rows[0]?.t).toBe('FLOAT[]');
    return rows.map((x) => ({ id: x.id, row: Number(x.row), vector: x.vector }));
  } finally {
    db.closeSync();
  }
}

describe('embed --parquet', () => {
  it.each([
    ['in this process', []],
    ['in 5 shards on 2 workers', ['--workers', '2', '--shard-rows', '1300']],
  ])('writes embeddings.parquet %s: every row’s id, its row, and its vector bit for bit the .npy’s', async (_, extra) => {
    const out = tmp();
    const r = runCli([fixture('tracks-5k.parquet'), '-o', out, '--parquet', ...extra]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/→ .*\{spotify_vectors_14d\.npy, id_to_index\.json, embeddings\.parquet, manifest\.json\}\n$/);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.outputs.parquet).toBe('embeddings.parquet');
    expect(manifest.shards.count).toBe(extra.length > 0 ? 5 : 1);
    const rows = await readWithDuckDb(join(out, 'embeddings.parquet'));
    const npy = parseNpy(readFileSync(join(out, 'spotify_vectors_14d.npy')), 'npy');
    const mapping = JSON.parse(readFileSync(join(out, 'id_to_index.json'), 'utf8')) as Record<string, number>;
    expect(rows).toHaveLength(5000);
    rows.forEach((x, i) => {
      expect(x.row).toBe(i);
      expect(mapping[x.id]).toBe(i);
      expect(Float32Array.from(x.vector)).toEqual(npy.data.subarray(i * 14, (i + 1) * 14));
    });
  });

  it('is off by default, and a run without it removes an earlier run’s copy', () => {
    const out = tmp();
    expect(runCli([fixture('tracks-5k.parquet'), '-o', out, '--parquet']).code).toBe(0);
    expect(existsSync(join(out, 'embeddings.parquet'))).toBe(true);
    expect(runCli([fixture('tracks-5k.parquet'), '-o', out]).code).toBe(0);
    expect(existsSync(join(out, 'embeddings.parquet'))).toBe(false);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).outputs.parquet).toBeUndefined();
  });
});
