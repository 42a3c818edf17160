/**
 * Arrow columns → the typed arrays the kernels use: numbers as Float64Array with NaN for null
 * (as pandas reads them), ids as UTF-8 offsets + bytes or as dictionary codes. One pass per batch,
 * no per-row objects.
 */
import { LargeUtf8, Precision, Type, Utf8, makeData, type Data, type Vector } from 'apache-arrow';
import { DataError } from '../errors.ts';

/**
 * Offsets into a string column's bytes: Int32 while the bytes fit in them, float64 (exact to
 * 2^53) past that, so a row group of more than 2 GiB of ids does not wrap.
 */
export type IdOffsets = Int32Array | Float64Array;

/** Plain UTF-8 ids: id i is `data[offsets[i]..offsets[i+1])`. */
export interface PlainIds {
  offsets: IdOffsets;
  data: Uint8Array;
}

/**
 * Dictionary-encoded ids kept as they came: row i's id is entry `codes[i]` of `dictionary`, so
 * work per id (hashing, escaping, decoding) is done once per entry, not once per row.
 */
export interface DictIds {
  codes: Int32Array;
  dictionary: PlainIds;
}

/** A column of ids, plain or dictionary-encoded. */
export type IdColumn = PlainIds | DictIds;

/** True when the ids are dictionary codes. */
export function isDictIds(ids: IdColumn): ids is DictIds {
  return 'codes' in ids;
}

/** How many ids the column holds. */
export function idCount(ids: IdColumn): number {
  return isDictIds(ids) ? ids.codes.length : ids.offsets.length - 1;
}

/** Bytes of row i's id in `ids` (plain). */
function entryBytes(ids: PlainIds, i: number): number {
  return ids.offsets[i + 1]! - ids.offsets[i]!;
}

/** Bytes the ids would take written out row by row (a dictionary id counted once per row). */
export function idBytes(ids: IdColumn): number {
  if (!isDictIds(ids)) return ids.data.length;
  let n = 0;
  for (const k of ids.codes) n += entryBytes(ids.dictionary, k);
  return n;
}

/**
 * The limits on id bytes, lowerable for tests: past `int32` bytes offsets become float64; past
 * `total` (what one Uint8Array can hold) a column of ids is refused with an IdBytesError.
 */
export const ID_LIMITS = { int32: 2 ** 31 - 1, total: 2 ** 32 - 1 };

/** More id bytes than can be held: thrown by the conversions, turned into an IdBytesError by the callers that know the file. */
export class IdBytesOverflow extends Error {
  constructor(readonly bytes: number) {
    super(`${bytes} bytes of ids exceed the limit of ${ID_LIMITS.total}`);
  }
}

/** A row group (or shard) holds more id bytes than can be held in memory at once: names the file and column. */
export class IdBytesError extends DataError {
  constructor(file: string, column: string, where: string, bytes: number, options?: ErrorOptions) {
    super(
      file,
      column,
      `${where} holds ${bytes.toLocaleString('en-US')} bytes of ids, more than the ${ID_LIMITS.total.toLocaleString('en-US')} bytes that can be held at once; write the file with smaller row groups`,
      options,
    );
  }
}

/** Offsets for `rows` ids of `bytes` bytes in all: Int32 when they fit. */
function offsetsFor(rows: number, bytes: number): IdOffsets {
  if (bytes > ID_LIMITS.total) throw new IdBytesOverflow(bytes);
  return bytes > ID_LIMITS.int32 ? new Float64Array(rows + 1) : new Int32Array(rows + 1);
}

/** The Arrow type of a column could not be used; `found` names it for the error message. */
export class ColumnTypeError extends Error {
  constructor(readonly found: string) {
    super(`unsupported Arrow type ${found}`);
  }
}

/** Copies a numeric or boolean Arrow vector into `out` (from index 0) as float64, null → NaN. */
export function toFloat64(vector: Vector, out: Float64Array = new Float64Array(vector.length)): Float64Array {
  let at = 0;
  for (const data of vector.data) {
    numericChunk(data, out, at);
    at += data.length;
  }
  return out;
}

/**
 * The numbers of a vector as float64, null → NaN: a view of its own values when it is one float64
 * chunk without nulls (to be read, never written), else toFloat64's copy (into `out` if given).
 */
export function float64Values(vector: Vector, out?: Float64Array): Float64Array {
  const data = vector.data.length === 1 ? vector.data[0]! : null;
  if (
    data &&
    data.type.typeId === Type.Float &&
    (data.type as unknown as { precision: Precision }).precision === Precision.DOUBLE &&
    data.nullCount === 0
  ) {
    return (data.values as Float64Array).subarray(data.offset, data.offset + data.length);
  }
  return toFloat64(vector, out);
}

function numericChunk(data: Data, out: Float64Array, at: number): void {
  const n = data.length;
  const type = data.type;
  if (type.typeId === Type.Dictionary) {
    const dict = toFloat64(data.dictionary as Vector);
    const idx = data.values as ArrayLike<number | bigint>;
    for (let i = 0; i < n; i++) out[at + i] = dict[Number(idx[data.offset + i])]!;
  } else if (type.typeId === Type.Bool) {
    const bits = data.values as Uint8Array;
    for (let i = 0; i < n; i++) {
      const j = data.offset + i;
      out[at + i] = (bits[j >> 3]! >> (j & 7)) & 1;
    }
  } else if (type.typeId === Type.Int || type.typeId === Type.Float) {
    if (type.typeId === Type.Float && (type as unknown as { precision: number }).precision === 0) throw new ColumnTypeError('float16');
    const values = data.values as ArrayLike<number> | BigInt64Array | BigUint64Array;
    if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
      int64ToFloat64(values, data.offset, n, out, at);
    } else {
      // Typed-array set converts and stays in native code.
      out.set((values as Float64Array).subarray(data.offset, data.offset + n), at);
    }
  } else {
    throw new ColumnTypeError(String(type));
  }
  const valid = data.nullBitmap;
  if (data.nullCount > 0 && valid && valid.length > 0) {
    for (let i = 0; i < n; i++) {
      const j = data.offset + i;
      if (((valid[j >> 3]! >> (j & 7)) & 1) === 0) out[at + i] = NaN;
    }
  }
}

const TWO_32 = 4294967296;

/**
 * int64 → float64 as pandas converts (round to nearest), without a BigInt per element: from the
 * two 32-bit words, exact while |x| < 2^53; any larger value takes the BigInt path for itself.
 */
function int64ToFloat64(values: BigInt64Array | BigUint64Array, offset: number, n: number, out: Float64Array, at: number): void {
  const words = new Int32Array(values.buffer, values.byteOffset + offset * 8, n * 2);
  const signed = values instanceof BigInt64Array;
  for (let i = 0; i < n; i++) {
    const lo = words[2 * i]! >>> 0;
    const hi = words[2 * i + 1]!;
    // |hi| < 2^21 means |x| < 2^53: hi * 2^32 + lo is then exact.
    if (hi < 0x200000 && hi >= (signed ? -0x200000 : 0)) out[at + i] = hi * TWO_32 + lo;
    else out[at + i] = Number(values[offset + i]!);
  }
}

/** Index of the first null in a vector, or -1. */
export function firstNull(vector: Vector): number {
  let at = 0;
  for (const data of vector.data) {
    const valid = data.nullBitmap;
    if (data.nullCount > 0 && valid && valid.length > 0) {
      for (let i = 0; i < data.length; i++) {
        const j = data.offset + i;
        if (((valid[j >> 3]! >> (j & 7)) & 1) === 0) return at + i;
      }
    }
    at += data.length;
  }
  return -1;
}

/**
 * The ids of a string vector (Utf8, LargeUtf8 or dictionary of them) as one column: dictionary
 * chunks stay codes into their dictionaries (joined into one), plain chunks stay bytes.
 */
export function toIdColumn(vector: Vector): IdColumn {
  const chunks = vector.data.map(stringChunk);
  return chunks.length === 1 ? chunks[0]! : concatIds(chunks);
}

/** Consecutive id columns as one: all dictionary-encoded → codes into the dictionaries joined; else plain bytes. */
export function concatIds(chunks: readonly IdColumn[]): IdColumn {
  if (chunks.length > 0 && chunks.every(isDictIds)) {
    const unique: PlainIds[] = [];
    const codes = new Int32Array(chunks.reduce((s, c) => s + c.codes.length, 0));
    let row = 0;
    let base = 0;
    for (const c of chunks) {
      // The same dictionary (one row group's, batch after batch) is joined once.
      const last = unique[unique.length - 1];
      if (last !== c.dictionary) {
        if (last) base += last.offsets.length - 1;
        unique.push(c.dictionary);
      }
      for (let j = 0; j < c.codes.length; j++) codes[row++] = c.codes[j]! + base;
    }
    return { codes, dictionary: concatPlain(unique) };
  }
  return concatPlain(chunks.map(toPlain));
}

/**
 * Consecutive plain id columns as one. Batches sliced from one decoded chunk (their bytes follow
 * each other in one buffer) are joined as a view of that buffer; others are copied.
 */
function concatPlain(chunks: readonly PlainIds[]): PlainIds {
  if (chunks.length === 1) return chunks[0]!;
  if (chunks.length === 0) return { offsets: new Int32Array(1), data: new Uint8Array(0) };
  const n = chunks.reduce((s, c) => s + c.offsets.length - 1, 0);
  const bytes = chunks.reduce((s, c) => s + c.data.length, 0);
  const offsets = offsetsFor(n, bytes);
  const first = chunks[0]!.data;
  const adjoining = chunks.every(
    (c, k) =>
      k === 0 || (c.data.buffer === first.buffer && c.data.byteOffset === chunks[k - 1]!.data.byteOffset + chunks[k - 1]!.data.length),
  );
  const data = adjoining ? new Uint8Array(first.buffer, first.byteOffset, bytes) : new Uint8Array(bytes);
  let row = 0;
  let pos = 0;
  for (const c of chunks) {
    if (!adjoining) data.set(c.data, pos);
    for (let i = 1; i < c.offsets.length; i++) offsets[++row] = c.offsets[i]! + pos;
    pos += c.data.length;
  }
  return { offsets, data };
}

/** The ids written out row by row: a dictionary column materialised (rarely needed: the mixed case). */
export function toPlain(ids: IdColumn): PlainIds {
  if (!isDictIds(ids)) return ids;
  const { codes, dictionary: dict } = ids;
  const n = codes.length;
  const bytes = idBytes(ids);
  const offsets = offsetsFor(n, bytes);
  const out = new Uint8Array(bytes);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const k = codes[i]!;
    const s = dict.offsets[k]!;
    const e = dict.offsets[k + 1]!;
    out.set(dict.data.subarray(s, e), pos);
    pos += e - s;
    offsets[i + 1] = pos;
  }
  return { offsets, data: out };
}

/** Dictionaries converted, by their Arrow vector: chunks that share one share its conversion (and are joined once). */
const dictionaries = new WeakMap<Vector, PlainIds>();

function stringChunk(data: Data): IdColumn {
  const n = data.length;
  const t = data.type.typeId;
  if (t === Type.Dictionary) {
    const vector = data.dictionary as Vector;
    let dictionary = dictionaries.get(vector);
    if (!dictionary) dictionaries.set(vector, (dictionary = toPlain(toIdColumn(vector))));
    const idx = data.values as ArrayLike<number | bigint>;
    const codes = new Int32Array(n);
    if (idx instanceof Int32Array) codes.set(idx.subarray(data.offset, data.offset + n));
    else for (let i = 0; i < n; i++) codes[i] = Number(idx[data.offset + i]);
    return { codes, dictionary };
  }
  if (t !== Type.Utf8 && t !== Type.LargeUtf8) throw new ColumnTypeError(String(data.type));
  const src = data.valueOffsets as Int32Array | BigInt64Array;
  const base = Number(src[data.offset]!);
  const end = Number(src[data.offset + n]!);
  const offsets = offsetsFor(n, end - base);
  if (src instanceof Int32Array) {
    for (let i = 0; i <= n; i++) offsets[i] = src[data.offset + i]! - base;
  } else {
    for (let i = 0; i <= n; i++) offsets[i] = Number(src[data.offset + i]!) - base;
  }
  return { offsets, data: (data.values as Uint8Array).subarray(base, end) };
}

/**
 * Rows [at, at + n) of plain ids (or all of them) as Arrow string data with no nulls: Utf8 with
 * Int32 offsets while the rows' bytes fit them, LargeUtf8 past that. A dictionary column is
 * written out row by row first (embeddings.parquet holds plain strings).
 */
export function idColumnData(
  ids: IdColumn,
  at = 0,
  n = idCount(ids) - at,
  nulls?: { count: number; bitmap: Uint8Array },
): Data<Utf8 | LargeUtf8> {
  const plain = toPlain(ids);
  const src = plain.offsets.subarray(at, at + n + 1);
  const nullPart = nulls ? { nullCount: nulls.count, nullBitmap: nulls.bitmap } : { nullCount: 0 };
  // Int32 offsets need no rebasing: Arrow takes offsets that do not start at 0.
  if (src instanceof Int32Array) return makeData({ type: new Utf8(), length: n, ...nullPart, valueOffsets: src, data: plain.data });
  const base = src[0]!;
  const bytes = src[n]! - base;
  const data = plain.data.subarray(base, base + bytes);
  if (bytes <= ID_LIMITS.int32) {
    const offsets = new Int32Array(n + 1);
    for (let i = 0; i <= n; i++) offsets[i] = src[i]! - base;
    return makeData({ type: new Utf8(), length: n, ...nullPart, valueOffsets: offsets, data });
  }
  const offsets = new BigInt64Array(n + 1);
  for (let i = 0; i <= n; i++) offsets[i] = BigInt(src[i]! - base);
  return makeData({ type: new LargeUtf8(), length: n, ...nullPart, valueOffsets: offsets, data });
}
