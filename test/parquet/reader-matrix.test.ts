import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Compression } from 'parquet-wasm';
import { runLocal } from '../../lib/local/runner.ts';
import { openFileSource } from '../../lib/io/file-source.ts';
import { loadFooter, readFooter } from '../../lib/parquet/footer.ts';
import { openParquet } from '../../lib/parquet/reader.ts';
import { planShards } from '../../lib/embedding/shard-plan.ts';
import { embedShard } from '../../lib/embedding/shard-work.ts';
import { compileSpec } from '../../lib/embedding/kernel.ts';
import { DEFAULT_SPEC, standardizedColumns } from '../../lib/embedding/spec.ts';
import { assertParity } from '../helpers/npy-compare.ts';
import { fixture, useTmp } from '../helpers/tmp.ts';
import { readParquet, writeParquet } from '../helpers/parquet-write.ts';

/** Every committed fixture with reference outputs beside it, from the writers/ and edge/ folders. */
const cases = ['writers', 'edge'].flatMap((group) =>
  readdirSync(fixture(group))
    .filter((f) => f.endsWith('.parquet') && existsSync(fixture(group, f.replace(/\.parquet$/, '.reference'))))
    .map((f) => [`${group}/${f}`] as const),
);

describe('reader matrix: writers, codecs, encodings and edge cases at parity with the reference', () => {
  const tmp = useTmp();

  it('covers the fixtures it should', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  it.each(cases)('%s', async (name) => {
    const input = fixture(name);
    const ref = input.replace(/\.parquet$/, '.reference');
    const { vectorsPath, mappingPath } = await runLocal({ input, outDir: tmp(), shardRows: 97, workers: 1 });
    assertParity(vectorsPath, join(ref, 'spotify_vectors_14d.npy'));
    expect(readFileSync(mappingPath).toString('latin1')).toBe(readFileSync(join(ref, 'id_to_index.json')).toString('latin1'));
  });

  it.each([
    ['zstd, v2 data pages', { compression: Compression.ZSTD, pageV2: true }],
    ['gzip, no dictionary', { compression: Compression.GZIP, dictionary: false }],
    ['brotli', { compression: Compression.BROTLI }],
    ['lz4 raw', { compression: Compression.LZ4_RAW }],
    ['uncompressed, no statistics', { compression: Compression.UNCOMPRESSED, statistics: false }],
  ] as const)('the 5k fixture rewritten by parquet-wasm (arrow-rs), %s', async (_, options) => {
    const dir = tmp();
    const input = join(dir, 'rewritten.parquet');
    writeParquet(await readParquet(fixture('tracks-5k.parquet')), input, { ...options, rowGroupRows: 1700 });
    const { vectorsPath, mappingPath } = await runLocal({ input, outDir: dir, shardRows: 1200, workers: 1 });
    assertParity(vectorsPath, fixture('tracks-5k.reference', 'spotify_vectors_14d.npy'));
    expect(readFileSync(mappingPath).equals(readFileSync(fixture('tracks-5k.reference', 'id_to_index.json')))).toBe(true);
  });
});

describe('opening a reader', () => {
  // On S3 every read is a GET: the footer is read once per open, however it is opened.
  it('reads the footer once: one read of the file’s tail, none more given the footer as read', async () => {
    const source = await openFileSource(fixture('tracks-5k.parquet'));
    try {
      const reads: number[] = [];
      const counted = { name: source.name, size: source.size, read: (o: number, n: number) => (reads.push(o), source.read(o, n)) };
      await openParquet(counted);
      expect(reads).toHaveLength(1);
      const footer = await loadFooter(counted);
      reads.length = 0;
      await openParquet(counted, footer);
      expect(reads).toEqual([]);
      // Given its layout alone (what a worker's task carries), the footer's bytes are read once.
      await openParquet(counted, footer.layout);
      expect(reads).toEqual([footer.layout.footer.start]);
    } finally {
      await source.close();
    }
  });
});

describe('reading through the prefetch', () => {
  // RangeCache drops its bytes after a segment's first batch, on the grounds that the decoder
  // has fetched the row group by then; a later read would go to the source (an S3 GET) unseen.
  it.each(cases)('%s: every source read is a prefetch, also for shards inside row groups', async (name) => {
    const source = await openFileSource(fixture(name));
    try {
      let bytes = 0;
      const counted = { name: source.name, size: source.size, read: (o: number, n: number) => ((bytes += n), source.read(o, n)) };
      const layout = await readFooter(source);
      const reader = await openParquet(counted, layout);
      const opened = bytes;
      // Any scaler does: this test counts the bytes read, not the values.
      const k = standardizedColumns(DEFAULT_SPEC).length;
      const ones = new Array<number>(k).fill(1);
      const features = compileSpec(DEFAULT_SPEC, { count: ones, mean: ones, variance: ones, scale: ones });
      for (const shard of planShards(
        layout.rowGroups.map((g) => g.numRows),
        97,
      ))
        await embedShard(reader, shard, features, DEFAULT_SPEC.id, () => {});
      expect(reader.timings.bytesRead).toBeGreaterThan(0);
      expect(bytes - opened).toBe(reader.timings.bytesRead);
    } finally {
      await source.close();
    }
  });
});
