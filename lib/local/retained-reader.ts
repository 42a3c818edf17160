/**
 * A ParquetReader that decodes chosen columns of the whole file once, in one decoder stream over
 * every row group, and serves every later read of them from memory. The in-process runner reads
 * the same columns three times (the sums, the deviations, the embedding): on a small file this
 * turns three decodes into one, and a file of many tiny row groups into one stream of large
 * batches. The tasks run unchanged on top, so the bytes are the same as from the file.
 */
import { Dictionary, Float64, Int32, RecordBatch, Utf8, makeData, makeVector, type Data, type Vector } from 'apache-arrow';
import type { ParquetReader } from '../parquet/reader.ts';
import type { RowRange } from '../parquet/row-range.ts';
import {
  concatIds,
  firstNull,
  float64Values,
  idColumnData,
  isDictIds,
  toFloat64,
  toIdColumn,
  type IdColumn,
} from '../embedding/columns.ts';

/** Decoded bytes kept at most (8 per number, strings by their bytes); a larger file is read from the file as before. */
export const RETAIN_MAX_BYTES = 256 * 1024 * 1024;

/**
 * `reader` with `columns` decoded once and kept, or `reader` itself when they would take more
 * than RETAIN_MAX_BYTES or cannot be kept (a type the kernels refuse, a corrupt page): the plain
 * reader then meets the problem where the tasks read it, with the error they give.
 */
export async function retainColumns(reader: ParquetReader, columns: readonly string[]): Promise<ParquetReader> {
  const { layout } = reader;
  if (layout.numRows * columns.length * 8 > RETAIN_MAX_BYTES) return reader;
  let kept: Map<string, Kept>;
  try {
    kept = await decodeWhole(reader, columns);
  } catch {
    return reader;
  }
  const groupStart = [0];
  for (const g of layout.rowGroups) groupStart.push(groupStart[groupStart.length - 1]! + g.numRows);

  async function* batches(segments: readonly RowRange[], wanted: readonly string[], batchSize: number): AsyncGenerator<RecordBatch> {
    if (!wanted.every((c) => kept.has(c))) {
      yield* reader.batches(segments, wanted, batchSize);
      return;
    }
    // Consecutive segments are one range of rows: one batch, not one per (tiny) row group.
    const ranges: { start: number; end: number }[] = [];
    for (const s of segments) {
      const start = groupStart[s.rowGroup]! + s.offset;
      const last = ranges[ranges.length - 1];
      if (last && last.end === start) last.end += s.rows;
      else ranges.push({ start, end: start + s.rows });
    }
    for (const { start, end } of ranges) {
      for (let at = start; at < end; at += batchSize) {
        const n = Math.min(batchSize, end - at);
        yield new RecordBatch(Object.fromEntries(wanted.map((c) => [c, slice(kept.get(c)!, at, n)])));
      }
    }
  }

  return { source: reader.source, layout, timings: reader.timings, batches };
}

/** A kept column: numbers as float64 (null → NaN, as the tasks see them), or strings as UTF-8 with their null rows. */
type Kept = { kind: 'numbers'; values: Float64Array } | { kind: 'strings'; ids: IdColumn; nulls: number[]; dictionary?: Vector };

/** Every row of the columns, in one stream. */
async function decodeWhole(reader: ParquetReader, columns: readonly string[]): Promise<Map<string, Kept>> {
  const { layout } = reader;
  const total = layout.numRows;
  const isString = (c: string) => layout.columns.find((col) => col.name === c)?.physical === 'BYTE_ARRAY';
  const numeric = columns.filter((c) => !isString(c));
  const numbers = new Map<string, Float64Array>();
  const strings = new Map(columns.filter(isString).map((c) => [c, { chunks: [] as IdColumn[], nulls: [] as number[] }]));
  const all = layout.rowGroups.map((g, rowGroup) => ({ rowGroup, offset: 0, rows: g.numRows }));
  let at = 0;
  let held = total * numeric.length * 8;
  // Batches as large as the file: a file of one row group comes as one, whose float64 columns
  // (the page decoders' own arrays, fresh for this read) are kept as they are, not copied.
  for await (const batch of reader.batches(all, columns, Math.max(1, total))) {
    const n = batch.numRows;
    for (const c of numeric) {
      const v = batch.getChild(c)!;
      if (n === total) numbers.set(c, float64Values(v));
      else {
        if (!numbers.has(c)) numbers.set(c, new Float64Array(total));
        toFloat64(v, numbers.get(c)!.subarray(at, at + n));
      }
    }
    for (const [c, s] of strings) {
      const v = batch.getChild(c)!;
      if (firstNull(v) >= 0) for (let i = 0; i < n; i++) if (!v.isValid(i)) s.nulls.push(at + i);
      const ids = toIdColumn(v);
      // Strings count by the bytes they hold (a dictionary column: its codes and dictionary).
      held += isDictIds(ids) ? ids.codes.byteLength + ids.dictionary.data.length : ids.data.length;
      if (held > RETAIN_MAX_BYTES) throw new RangeError('the columns take more memory than is kept');
      s.chunks.push(ids);
    }
    at += n;
  }
  if (at !== total) throw new RangeError(`decoded ${at} rows, the footer says ${total}`);
  const out = new Map<string, Kept>();
  for (const c of numeric) out.set(c, { kind: 'numbers', values: numbers.get(c) ?? new Float64Array(0) });
  for (const [c, s] of strings) out.set(c, { kind: 'strings', ids: concatIds(s.chunks), nulls: s.nulls });
  return out;
}

/** Rows [at, at + n) of a kept column as Arrow data. */
function slice(column: Kept, at: number, n: number): Data {
  if (column.kind === 'numbers') return makeData({ type: new Float64(), length: n, data: column.values.subarray(at, at + n) });
  const nulls = column.nulls.filter((i) => i >= at && i < at + n);
  let nullBitmap: Uint8Array | undefined;
  if (nulls.length > 0) {
    nullBitmap = new Uint8Array(Math.ceil(n / 8)).fill(0xff);
    for (const i of nulls) nullBitmap[(i - at) >> 3]! &= ~(1 << ((i - at) & 7));
  }
  const nullPart = nullBitmap ? { count: nulls.length, bitmap: nullBitmap } : undefined;
  const { ids } = column;
  if (!isDictIds(ids)) return idColumnData(ids, at, n, nullPart);
  // Dictionary ids stay codes: the tasks meet the same dictionary column they would from the file.
  column.dictionary ??= makeVector(idColumnData(ids.dictionary));
  return makeData({
    type: new Dictionary(new Utf8(), new Int32()),
    length: n,
    nullCount: nulls.length,
    nullBitmap,
    data: ids.codes.subarray(at, at + n),
    dictionary: column.dictionary,
  });
}
