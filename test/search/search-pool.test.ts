import { describe, expect, it } from 'vitest';
import { searchMany, type SearchQuery } from '../../lib/search/search-pool.ts';
import { nearest, type Neighbour } from '../../lib/search/nearest.ts';

/** A seeded matrix of `rows` × 14 float32 values in [-2, 2), with a NaN now and then. */
function matrix(rows: number): Float32Array {
  const out = new Float32Array(rows * 14);
  let x = 12345;
  for (let i = 0; i < out.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = i % 997 === 0 ? NaN : (x / 2 ** 32) * 4 - 2;
  }
  return out;
}

describe('searchMany', () => {
  const rows = 20_000;
  const vectors = matrix(rows);
  const count = 71;
  const queries: SearchQuery[] = Array.from({ length: count }, (_, i) => {
    const row = (i * 7919) % rows;
    return { vector: Float64Array.from(vectors.subarray(row * 14, row * 14 + 14)), exclude: i % 2 ? [row] : [] };
  });

  it.each(['euclidean', 'cosine'] as const)('gives on 2 threads, in order, the %s answers of one thread', async (metric) => {
    const answers: [number, Neighbour[]][] = [];
    // The threads are used whatever the work (a threshold of 0 rows scanned).
    await searchMany(vectors, 14, queries, 5, metric, 2, (i, found) => answers.push([i, found]), 0);
    expect(answers.map(([i]) => i)).toEqual(queries.map((_, i) => i));
    answers.forEach(([i, found]) =>
      expect(found).toEqual(nearest(vectors, 14, queries[i]!.vector, 5, metric, new Set(queries[i]!.exclude))),
    );
    // A query that is not excluded finds its own row first.
    expect(answers[0]![1][0]).toEqual({ row: 0, distance: 0 });
  });
});
