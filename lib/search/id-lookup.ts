/**
 * Lookups in an output's `id_index.bin` (lib/outputs/id-index.ts) over a byte-range source:
 * an id's row in two small reads (its partition's bucket offsets, then the bucket, whose
 * records carry the ids that confirm the match), a row's id in two (three from a block of
 * dictionary codes) after its block's first bytes, read once per block, and after the header and its
 * directories are read once. Nothing here grows with the output but those directories.
 */
import type { ByteSource } from '../io/byte-source.ts';
import {
  DICT_BLOCK,
  ID_INDEX_HEADER_BYTES,
  ID_INDEX_MAGIC,
  RECORD_HEAD,
  bucketOf,
  hashOfId,
  type IdIndexLayout,
} from '../outputs/id-index.ts';
import { OutputFolderError } from '../outputs/manifest-check.ts';

/** Id ↔ row, as `similar` and the query function ask it. */
export interface IdLookup {
  /** The row the mapping gives `id` (a repeated id's last), or undefined. */
  rowOf(id: string): Promise<number | undefined>;
  /** The id of `row` as the mapping names it: null when the row's id repeats later (the mapping names the later row). */
  idOf(row: number): Promise<string | null>;
  /** Bytes read so far (the benchmark's figure). */
  readonly bytesRead: number;
}

const utf8 = new TextEncoder();
const text = new TextDecoder('utf-8', { ignoreBOM: true });

/** Opens the index at `source`, checked against the `rows` the manifest gives; a damaged file is an OutputFolderError. */
export async function openIdIndex(source: ByteSource, rows: number, repeatedIds: boolean): Promise<IdLookup> {
  const fail = (problem: string): never => {
    throw new OutputFolderError(`${source.name}: ${problem}`);
  };
  let bytesRead = 0;
  const read = async (offset: number, length: number) => {
    if (offset < 0 || length < 0 || offset + length > source.size)
      fail(`damaged: a read of ${length} bytes at ${offset} passes its end (${source.size} bytes)`);
    bytesRead += length;
    const b = await source.read(offset, length);
    return new DataView(b.buffer, b.byteOffset, b.byteLength);
  };
  if (source.size < ID_INDEX_HEADER_BYTES) fail(`${source.size} bytes, shorter than an id index header`);
  const h = await read(0, ID_INDEX_HEADER_BYTES);
  const magic = String.fromCharCode(...new Uint8Array(h.buffer, h.byteOffset, 8));
  if (magic !== ID_INDEX_MAGIC) fail(`not an id index (it starts with ${JSON.stringify(magic)}, not '${ID_INDEX_MAGIC}')`);
  const layout: IdIndexLayout = { partBits: h.getUint8(8), bucketBits: h.getUint8(9) };
  const S = h.getUint32(12, true);
  const indexRows = h.getFloat64(16, true);
  if (indexRows !== rows) fail(`indexes ${indexRows} rows, the manifest says ${rows}`);
  if (layout.partBits + layout.bucketBits > 32) fail(`damaged header (${layout.partBits} + ${layout.bucketBits} hash bits)`);
  const P = 2 ** layout.partBits;
  const dirs = await read(ID_INDEX_HEADER_BYTES, 8 * (P + 1) + 16 * (S + 1));
  const partStart = (p: number) => dirs.getFloat64(8 * p, true);
  const blockDir = 8 * (P + 1);
  const firstRow = (s: number) => dirs.getFloat64(blockDir + 16 * s, true);
  const blockStart = (s: number) => dirs.getFloat64(blockDir + 16 * s + 8, true);
  if (blockStart(S) !== source.size) fail(`damaged: its directory ends at byte ${blockStart(S)}, the file at ${source.size}`);

  const rowOf = async (id: string): Promise<number | undefined> => {
    const key = utf8.encode(id);
    const [lo, hi] = hashOfId(key);
    const p = layout.partBits === 0 ? 0 : hi >>> (32 - layout.partBits);
    const base = partStart(p);
    const b = bucketOf(hi, layout);
    const bounds = await read(base + 4 * b, 8);
    const start = bounds.getUint32(0, true);
    const end = bounds.getUint32(4, true);
    if (end < start) fail(`damaged: bucket ${b} of partition ${p} ends before it starts`);
    if (end === start) return undefined;
    const bucket = await read(base + start, end - start);
    for (let at = 0; at < bucket.byteLength;) {
      const len = bucket.getUint32(at + 16, true);
      if (bucket.getUint32(at, true) === lo && bucket.getUint32(at + 4, true) === hi && len === key.length) {
        let same = true;
        for (let i = 0; i < len && same; i++) same = bucket.getUint8(at + RECORD_HEAD + i) === key[i];
        if (same) return bucket.getFloat64(at + 8, true);
      }
      at += RECORD_HEAD + len;
    }
    return undefined;
  };

  // Whether each row block holds codes (its dictionary's size) or plain ids (null): read once per block, not per lookup.
  const blockKinds = new Map<number, Promise<number | null>>();
  const dictionaryEntries = (s: number): Promise<number | null> => {
    let kind = blockKinds.get(s);
    if (!kind) {
      const base = blockStart(s);
      kind = read(base, Math.min(12, blockStart(s + 1) - base)).then((head) =>
        head.byteLength === 12 && head.getUint32(0, true) === DICT_BLOCK ? head.getUint32(4, true) : null,
      );
      blockKinds.set(s, kind);
    }
    return kind;
  };

  const rawIdOf = async (row: number): Promise<string> => {
    let lo = 0;
    let hi = S - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (firstRow(mid) <= row) lo = mid;
      else hi = mid - 1;
    }
    const base = blockStart(lo);
    const n = firstRow(lo + 1) - firstRow(lo);
    const i = row - firstRow(lo);
    const d = await dictionaryEntries(lo);
    if (d !== null) {
      // Dictionary codes: the row's code, then that entry's bytes.
      const code = (await read(base + 12 + 4 * i, 4)).getUint32(0, true);
      if (code >= d) fail(`damaged: row ${row} has dictionary code ${code} of ${d}`);
      const dict = base + 12 + 4 * n;
      const offsets = await read(dict + 4 * code, 8);
      const start = offsets.getUint32(0, true);
      const end = offsets.getUint32(4, true);
      return text.decode(await read(dict + 4 * (d + 1) + start, end - start));
    }
    const offsets = await read(base + 4 * i, 8);
    const start = offsets.getUint32(0, true);
    const end = offsets.getUint32(4, true);
    if (end < start) fail(`damaged: row ${row}'s id ends before it starts`);
    const bytes = await read(base + 4 * (n + 1) + start, end - start);
    return text.decode(bytes);
  };

  return {
    rowOf,
    async idOf(row) {
      if (!Number.isInteger(row) || row < 0 || row >= rows) return null;
      const id = await rawIdOf(row);
      // Only where ids repeat can a row's id belong to a later row.
      if (repeatedIds && (await rowOf(id)) !== row) return null;
      return id;
    },
    get bytesRead() {
      return bytesRead;
    },
  };
}

/** The same lookups over an in-memory mapping (an output folder without an index). */
export function mapLookup(index: Map<string, number>, ids: readonly (string | null)[]): IdLookup {
  return {
    rowOf: async (id) => index.get(id),
    idOf: async (row) => ids[row] ?? null,
    bytesRead: 0,
  };
}
