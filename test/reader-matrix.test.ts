import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Compression } from 'parquet-wasm';
import { runLocal } from '../lib/local-runner.ts';
import { assertParity } from './helpers/npy-compare.ts';
import { fixture, useTmp } from './helpers/tmp.ts';
import { readParquet, writeParquet } from './helpers/parquet-write.ts';

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
    const { vectorsPath, mappingPath } = await runLocal({ input, outDir: tmp(), shardRows: 97, workers: 2 });
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
    const { vectorsPath, mappingPath } = await runLocal({ input, outDir: dir, shardRows: 1200, workers: 2 });
    assertParity(vectorsPath, fixture('tracks-5k.reference', 'spotify_vectors_14d.npy'));
    expect(readFileSync(mappingPath).equals(readFileSync(fixture('tracks-5k.reference', 'id_to_index.json')))).toBe(true);
  });
});
