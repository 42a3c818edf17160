/**
 * Arrow columns → the typed arrays the kernels use: numbers as Float64Array with NaN for null
 * (as pandas reads them), ids as UTF-8 offsets + bytes. One pass per batch, no per-row objects.
 */
import { Type, type Data, type Vector } from 'apache-arrow';

/** A column of UTF-8 ids: id i is `data[offsets[i]..offsets[i+1])`. */
export interface IdColumn {
  offsets: Int32Array;
  data: Uint8Array;
}

/** How many ids the column holds. */
export function idCount(ids: IdColumn): number {
  return ids.offsets.length - 1;
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

/** The ids of a string vector (Utf8, LargeUtf8 or dictionary of them) as one UTF-8 column. */
export function toIdColumn(vector: Vector): IdColumn {
  const chunks = vector.data.map(stringChunk);
  return chunks.length === 1 ? chunks[0]! : concatIds(chunks);
}

/** Consecutive id columns as one. */
export function concatIds(chunks: readonly IdColumn[]): IdColumn {
  const n = chunks.reduce((s, c) => s + c.offsets.length - 1, 0);
  const bytes = chunks.reduce((s, c) => s + c.data.length, 0);
  const offsets = new Int32Array(n + 1);
  const data = new Uint8Array(bytes);
  let row = 0;
  let pos = 0;
  for (const c of chunks) {
    data.set(c.data, pos);
    for (let i = 1; i < c.offsets.length; i++) offsets[++row] = c.offsets[i]! + pos;
    pos += c.data.length;
  }
  return { offsets, data };
}

function stringChunk(data: Data): IdColumn {
  const n = data.length;
  const t = data.type.typeId;
  if (t === Type.Dictionary) {
    const dict = toIdColumn(data.dictionary as Vector);
    const idx = data.values as ArrayLike<number | bigint>;
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const k = Number(idx[data.offset + i]);
      bytes += dict.offsets[k + 1]! - dict.offsets[k]!;
    }
    const offsets = new Int32Array(n + 1);
    const out = new Uint8Array(bytes);
    let pos = 0;
    for (let i = 0; i < n; i++) {
      const k = Number(idx[data.offset + i]);
      const s = dict.offsets[k]!;
      const e = dict.offsets[k + 1]!;
      out.set(dict.data.subarray(s, e), pos);
      pos += e - s;
      offsets[i + 1] = pos;
    }
    return { offsets, data: out };
  }
  if (t !== Type.Utf8 && t !== Type.LargeUtf8) throw new ColumnTypeError(String(data.type));
  const src = data.valueOffsets as Int32Array | BigInt64Array;
  const base = Number(src[data.offset]!);
  const end = Number(src[data.offset + n]!);
  const offsets = new Int32Array(n + 1);
  if (src instanceof Int32Array) {
    for (let i = 0; i <= n; i++) offsets[i] = src[data.offset + i]! - base;
  } else {
    for (let i = 0; i <= n; i++) offsets[i] = Number(src[data.offset + i]!) - base;
  }
  return { offsets, data: (data.values as Uint8Array).subarray(base, end) };
}
