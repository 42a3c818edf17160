/**
 * The map's projection, cached beside the outputs (`.explore-pca-v1.bin`) so a folder is
 * projected once. The file names what it was computed from (a SHA-256 of the folder's
 * manifest.json and the map's row limit) and ends in a SHA-256 of its own bytes; a file that is
 * truncated, damaged, of another version or of another publish is recomputed, never trusted.
 * Written to a temporary name and renamed, so a reader never sees half a file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fitPca, mapRows, project, type Pca } from './pca.ts';

export const PCA_CACHE_FILE = '.explore-pca-v1.bin';
const MAGIC = 'TEPCAv1\n';
const HEAD = 8 + 16 + 32;
const DIGEST = 32;

/** The map of a folder: its projection and the rows it shows with their 2-D coordinates. */
export interface PcaMap {
  pca: Pca;
  /** The rows drawn (all of them, or an even sample), ascending. */
  rows: Int32Array;
  /** x, y of each drawn row, interleaved. */
  xy: Float32Array;
}

/** What the cache file was computed from: the manifest's bytes and the row limit of the map. */
export function cacheKey(manifestBytes: Uint8Array, limit: number): Uint8Array {
  return createHash('sha256').update(manifestBytes).update(`\nlimit=${limit}`).digest();
}

/** The cache file's bytes for `map`. */
export function encodeMap(map: PcaMap, totalRows: number, key: Uint8Array): Uint8Array {
  const { pca, rows, xy } = map;
  const dims = pca.dims;
  const n = rows.length;
  const size = HEAD + 8 * (4 * dims) + 4 * n + 8 * n + DIGEST;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(8, dims, true);
  view.setUint32(12, totalRows, true);
  view.setUint32(16, n, true);
  bytes.set(key, 24);
  let at = HEAD;
  for (const xs of [pca.mean, pca.components, pca.eigenvalues])
    for (const x of xs) {
      view.setFloat64(at, x, true);
      at += 8;
    }
  for (const r of rows) {
    view.setInt32(at, r, true);
    at += 4;
  }
  for (const x of xy) {
    view.setFloat32(at, x, true);
    at += 4;
  }
  bytes.set(createHash('sha256').update(bytes.subarray(0, at)).digest(), at);
  return bytes;
}

/** The map in a cache file, or why it cannot be used (null map): wrong size, version, checksum, source or shape. */
export function decodeMap(
  bytes: Uint8Array,
  expect: { dims: number; rows: number; key: Uint8Array; mapRows: Int32Array },
): { map: PcaMap } | { problem: string } {
  const { dims } = expect;
  const n = expect.mapRows.length;
  const size = HEAD + 8 * (4 * dims) + 12 * n + DIGEST;
  if (bytes.byteLength < HEAD || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) return { problem: 'not a v1 cache file' };
  if (bytes.byteLength !== size) return { problem: `${bytes.byteLength} bytes, expected ${size}` };
  const body = bytes.subarray(0, size - DIGEST);
  const digest = createHash('sha256').update(body).digest();
  if (!digest.equals(bytes.subarray(size - DIGEST))) return { problem: 'its checksum does not match (a damaged file)' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(8, true) !== dims || view.getUint32(12, true) !== expect.rows || view.getUint32(16, true) !== n)
    return { problem: 'computed for another shape' };
  if (!Buffer.from(bytes.subarray(24, 56)).equals(Buffer.from(expect.key)))
    return { problem: 'computed for another publish of the folder' };
  let at = HEAD;
  const f64 = (count: number) => {
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++, at += 8) out[i] = view.getFloat64(at, true);
    return out;
  };
  const mean = f64(dims);
  const components = f64(2 * dims);
  const eigenvalues = f64(dims);
  const rows = new Int32Array(n);
  for (let i = 0; i < n; i++, at += 4) rows[i] = view.getInt32(at, true);
  for (let i = 0; i < n; i++) if (rows[i] !== expect.mapRows[i]) return { problem: 'its rows are not the map’s' };
  const xy = new Float32Array(2 * n);
  for (let i = 0; i < 2 * n; i++, at += 4) xy[i] = view.getFloat32(at, true);
  const pca: Pca = { dims, mean, components, eigenvalues, variances: [eigenvalues[0] ?? 0, eigenvalues[1] ?? 0] };
  return { map: { pca, rows, xy } };
}

/** Computes the map: the PCA over every row, the coordinates of the rows shown. */
export function computeMap(vectors: Float32Array, dims: number, limit: number): PcaMap {
  const pca = fitPca(vectors, dims);
  const rows = mapRows(vectors.length / dims, limit);
  return { pca, rows, xy: project(pca, vectors, rows) };
}

/** How the map was obtained: from the cache, computed and cached, or computed with the cache unwritable (and why). */
export type MapSource =
  { from: 'cache' } | { from: 'computed'; cached: true; replaced?: string } | { from: 'computed'; cached: false; why: string };

/**
 * The folder's map: read from its cache file when that is valid for this publish, else computed
 * and written there atomically (a folder that cannot be written is still mapped, just not cached).
 */
export async function loadOrComputeMap(
  dir: string,
  vectors: Float32Array,
  dims: number,
  manifestBytes: Uint8Array,
  limit: number,
): Promise<{ map: PcaMap; source: MapSource }> {
  const rows = vectors.length / dims;
  const key = cacheKey(manifestBytes, limit);
  const path = join(dir, PCA_CACHE_FILE);
  let replaced: string | undefined;
  const existing = await readFile(path).catch(() => null);
  if (existing) {
    const got = decodeMap(existing, { dims, rows, key, mapRows: mapRows(rows, limit) });
    if ('map' in got) return { map: got.map, source: { from: 'cache' } };
    replaced = got.problem;
  }
  const map = computeMap(vectors, dims, limit);
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, encodeMap(map, rows, key));
    await rename(tmp, path);
  } catch (e: unknown) {
    await rm(tmp, { force: true }).catch(() => {});
    return { map, source: { from: 'computed', cached: false, why: (e as NodeJS.ErrnoException).code ?? String(e) } };
  }
  return { map, source: { from: 'computed', cached: true, ...(replaced !== undefined && { replaced }) } };
}
