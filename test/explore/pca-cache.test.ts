/** The map's cache beside the outputs: written atomically, read back to the same bits, and recomputed when it is not this publish's. */
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheKey, computeMap, decodeMap, encodeMap, loadOrComputeMap, PCA_CACHE_FILE } from '../../lib/explore/pca-cache.ts';
import { mapRows } from '../../lib/explore/pca.ts';
import { Rng } from '../../lib/generate/random.ts';

const DIMS = 14;
const ROWS = 500;
const manifest = new TextEncoder().encode('{"manifestVersion":1,"createdAt":"a"}');
let dir: string;
let vectors: Float32Array;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'explore-cache-'));
  const rng = new Rng(11);
  vectors = Float32Array.from({ length: ROWS * DIMS }, (_, i) => rng.normal(0, 1 + (i % DIMS)));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const bitsOf = (xs: Float32Array | Float64Array | Int32Array) => Buffer.from(xs.buffer, xs.byteOffset, xs.byteLength);

describe('the map cache', () => {
  it('computes and writes the map once, then reads the same bits back; no temporary file is left', async () => {
    const first = await loadOrComputeMap(dir, vectors, DIMS, manifest, 1000);
    expect(first.source).toEqual({ from: 'computed', cached: true });
    expect(readdirSync(dir)).toEqual([PCA_CACHE_FILE]);
    const second = await loadOrComputeMap(dir, vectors, DIMS, manifest, 1000);
    expect(second.source).toEqual({ from: 'cache' });
    expect(bitsOf(second.map.xy).equals(bitsOf(first.map.xy))).toBe(true);
    expect(bitsOf(second.map.pca.components).equals(bitsOf(first.map.pca.components))).toBe(true);
    expect(bitsOf(second.map.rows).equals(bitsOf(first.map.rows))).toBe(true);
  });

  it.each([
    ['truncated', (b: Buffer) => b.subarray(0, b.length - 1), /bytes, expected/],
    ['a flipped byte', (b: Buffer) => ((b[100]! ^= 1), b), /checksum/],
    ['another version', (b: Buffer) => (b.write('TEPCAv2\n', 0), b), /not a v1 cache file/],
    ['empty', () => Buffer.alloc(0), /not a v1 cache file/],
  ])('recomputes a cache file that is %s, and replaces it', async (_, damage, problem) => {
    await loadOrComputeMap(dir, vectors, DIMS, manifest, 1000);
    const good = readFileSync(join(dir, PCA_CACHE_FILE));
    writeFileSync(join(dir, PCA_CACHE_FILE), damage(Buffer.from(good)));
    const again = await loadOrComputeMap(dir, vectors, DIMS, manifest, 1000);
    expect(again.source).toMatchObject({ from: 'computed', cached: true, replaced: expect.stringMatching(problem) });
    expect(readFileSync(join(dir, PCA_CACHE_FILE)).equals(good)).toBe(true);
  });

  it('recomputes for another publish (another manifest) or another map limit', async () => {
    await loadOrComputeMap(dir, vectors, DIMS, manifest, 1000);
    const republished = await loadOrComputeMap(dir, vectors, DIMS, new TextEncoder().encode('{"createdAt":"b"}'), 1000);
    expect(republished.source).toMatchObject({ replaced: 'computed for another publish of the folder' });
    const sampled = await loadOrComputeMap(dir, vectors, DIMS, manifest, 100);
    expect(sampled.source).toMatchObject({ from: 'computed' });
    expect(sampled.map.rows.length).toBe(100);
  });

  it('maps a folder it cannot write, and says why it did not cache', async () => {
    if (process.getuid?.() === 0) {
      // root writes anywhere: a file in the cache's place makes the rename fail instead.
      rmSync(dir, { recursive: true });
      writeFileSync(dir, '');
    } else chmodSync(dir, 0o500);
    const got = await loadOrComputeMap(dir, vectors, DIMS, manifest, 1000);
    expect(got.source).toMatchObject({ from: 'computed', cached: false, why: expect.any(String) });
    expect(got.map.xy.length).toBe(2 * ROWS);
    rmSync(dir, { force: true, recursive: true });
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses a file whose rows are not the map’s, even with a good checksum', () => {
    const map = computeMap(vectors, DIMS, 1000);
    const key = cacheKey(manifest, 1000);
    const bytes = encodeMap({ ...map, rows: map.rows.map((r) => (r === 3 ? 4 : r)) }, ROWS, key);
    expect(decodeMap(bytes, { dims: DIMS, rows: ROWS, key, mapRows: mapRows(ROWS, 1000) })).toEqual({
      problem: 'its rows are not the map’s',
    });
  });
});
