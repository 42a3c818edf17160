/** Embeddings Parquet as DuckDB reads it: an independent reader of what we write. */
import { DuckDBInstance } from '@duckdb/node-api';
import { expect } from 'vitest';

export interface EmbeddingRow {
  id: string;
  row: number;
  vector: number[];
}

/** The rows of `path` (a file, or a glob of parts read as one data set) in row order; vectors cast to FLOAT[dims]. */
export async function readEmbeddingsWithDuckDb(path: string, dims = 14): Promise<EmbeddingRow[]> {
  const db = await DuckDBInstance.create(':memory:');
  try {
    const c = await db.connect();
    const r = await c.runAndReadAll(
      `select id, row, vector::FLOAT[${dims}] as vector, typeof(vector) as t from read_parquet('${path}') order by row`,
    );
    const rows = r.getRowObjectsJson() as { id: string; row: string; vector: number[]; t: string }[];
    // A fixed-size list of float32 as DuckDB types it before the cast.
    expect(rows[0]?.t).toBe('FLOAT[]');
    return rows.map((x) => ({ id: x.id, row: Number(x.row), vector: x.vector }));
  } finally {
    db.closeSync();
  }
}

/** Every row is the .npy's row of the same index, bit for bit, under the id the mapping gives it. */
export function expectRowsMatch(rows: EmbeddingRow[], npy: Float32Array, mapping: Record<string, number>, dims = 14): void {
  expect(rows).toHaveLength(npy.length / dims);
  rows.forEach((x, i) => {
    expect(x.row).toBe(i);
    expect(mapping[x.id]).toBe(i);
    expect(Float32Array.from(x.vector)).toEqual(npy.subarray(i * dims, (i + 1) * dims));
  });
}
