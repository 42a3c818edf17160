import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocal } from '../../lib/local/runner.ts';
import { folderFiles, openOutputs, type OutputFiles, type SearchOutputs } from '../../lib/search/embeddings.ts';
import { nearest, meanOf, type Metric } from '../../lib/search/nearest.ts';
import { openStreamedOutputs, streamedRows, streamedNearest } from '../../lib/search/streamed-outputs.ts';
import { fixture } from '../helpers/tmp.ts';

let root: string;
let dir: string;
let held: SearchOutputs;

/** The folder's files, every ranged read handed back as a view at an odd offset (as a pooled Buffer's slice may be). */
function misaligned(files: OutputFiles): OutputFiles {
  return {
    ...files,
    source: async (file, etag) => {
      const s = await files.source!(file, etag);
      return {
        ...s,
        read: async (o: number, n: number) => {
          const bytes = await s.read(o, n);
          const out = new Uint8Array(n + 1);
          out.set(bytes, 1);
          return out.subarray(1);
        },
      };
    },
  };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'track-embeddings-test-'));
  dir = join(root, 'out');
  await runLocal({ input: fixture('tracks-5k.parquet'), outDir: dir, workers: 1 });
  held = await openOutputs(dir);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('a search that reads the vectors as it scans them', () => {
  const queries: [string, number, Metric, number[]][] = [
    ['row 0, k 10, euclidean', 10, 'euclidean', [0]],
    ['row 4999, k 1, euclidean', 1, 'euclidean', [4999]],
    ['three seeds, k 25, cosine', 25, 'cosine', [7, 1234, 4321]],
    ['row 17, k above the row count', 6000, 'euclidean', [17]],
  ];
  // One row a read; 333 rows and a few bytes (reads end on a row); one read for all.
  const chunks = [56, 56 * 333 + 5, 1 << 20];

  it.each(chunks)('finds what the in-memory scan finds, to the bit, in reads of %i bytes', async (chunkBytes) => {
    const s = await openStreamedOutputs(folderFiles(dir), { chunkBytes });
    expect(s.rows).toBe(5000);
    for (const [, k, metric, seeds] of queries) {
      const q = meanOf(held.vectors, held.dims, seeds);
      const exclude = new Set(seeds);
      expect(meanOf(await streamedRows(s, seeds), held.dims, [...seeds.keys()])).toEqual(q);
      expect(await streamedNearest(s, q, k, metric, exclude)).toEqual(nearest(held.vectors, held.dims, q, k, metric, exclude));
    }
    await s.vectors.source.close?.();
  });

  it('takes reads handed back at an odd offset', async () => {
    const s = await openStreamedOutputs(misaligned(folderFiles(dir)), { chunkBytes: 56 * 100 });
    const q = meanOf(held.vectors, held.dims, [3]);
    expect(await streamedNearest(s, q, 10, 'euclidean', new Set([3]))).toEqual(
      nearest(held.vectors, held.dims, q, 10, 'euclidean', new Set([3])),
    );
  });

  it('looks ids up through the id index, as the loaded outputs do', async () => {
    const s = await openStreamedOutputs(folderFiles(dir));
    for (const row of [0, 42, 4999]) {
      const id = await held.lookup.idOf(row);
      expect(await s.lookup.idOf(row)).toBe(id);
      expect(await s.lookup.rowOf(id!)).toBe(row);
    }
  });

  it('fails with the read that failed, whichever chunk it was', async () => {
    const files = folderFiles(dir);
    const failing: OutputFiles = {
      ...files,
      source: async (file, etag) => {
        const s = await files.source!(file, etag);
        let reads = 0;
        return { ...s, read: (o: number, n: number) => (++reads === 4 ? Promise.reject(new Error('read 4 failed')) : s.read(o, n)) };
      },
    };
    // Reads 1–2 are the header; then chunks of 1,000 rows, four in flight: the second chunk's read fails.
    const s = await openStreamedOutputs(failing, { chunkBytes: 56 * 1000 });
    await expect(streamedNearest(s, meanOf(held.vectors, held.dims, [0]), 5, 'euclidean')).rejects.toThrow('read 4 failed');
  });
});
