/**
 * Decodes chosen columns of chosen row ranges of a Parquet file, from any ByteSource, into
 * apache-arrow RecordBatches: our footer parser plans the reads, RangeCache prefetches them, and
 * the page decoders (numeric-pages.ts, string-pages.ts) decode what they can; parquet-wasm
 * decodes the rest from memory (loaded only then), and arrow-js-ffi copies it out of wasm memory.
 */
import { parseRecordBatch } from 'arrow-js-ffi';
import { Float64, Precision, RecordBatch, Type, Utf8, makeData, tableFromIPC, type Data, type DataType } from 'apache-arrow';
import { parquetWasm, type ParquetWasm } from './wasm.ts';
import { arrowHint, FOOTER_TYPES } from './arrow-hint.ts';
import type { ByteSource } from '../io/byte-source.ts';
import type { Footer, ParquetLayout } from './footer.ts';
import type { RowRange } from './row-range.ts';
import { decoderFooter, loadFooter, runFooter } from './footer.ts';
import { RangeCache } from './range-cache.ts';
import { InvalidInputError, PipelineError, messageOf } from '../errors.ts';
import { columnsNote, panicGuard, type DecodeSite } from './panic-guard.ts';
import { decodeStringChunk, type StringChunk } from './string-pages.ts';
import {
  decodeNumericChunk,
  numericPlan,
  NumericCursor,
  PageDecodeError,
  type NumericPhysical,
  type NumericPlan,
} from './numeric-pages.ts';

export interface ReadTimings {
  readMs: number;
  bytesRead: number;
  decodeMs: number;
}

export interface ParquetReader {
  readonly source: ByteSource;
  readonly layout: ParquetLayout;
  /** Running totals over every batch read so far (the consumer's own time excluded). */
  readonly timings: ReadTimings;
  /** Yields batches of at most `batchSize` rows of `columns` (any order) for the segments, in order. */
  batches(
    segments: readonly RowRange[],
    columns: readonly string[],
    batchSize: number,
    options?: BatchOptions,
  ): AsyncGenerator<RecordBatch>;
}

export interface BatchOptions {
  /**
   * The caller is done with a batch's numbers before it asks for the next (default false): the
   * page decoders may then decode a row group's numbers a batch at a time into buffers they reuse,
   * not its whole columns into fresh memory (an embed shard: 117 MB, and their page faults, for
   * 1Mi rows). Strings are never reused.
   */
  transient?: boolean;
}

export interface ReaderOptions {
  /**
   * Whether the page decoders (numeric-pages.ts, string-pages.ts) may read the columns they can
   * (default true). They beat parquet-wasm's first pass in a process, whose code is still being
   * compiled, but not its later ones: a reader whose process decodes the same columns again and
   * again (a worker of the command that does not keep its shards) does better with the wasm decoder.
   */
  pageDecoders?: boolean;
}

/**
 * Reads and checks the footer (a bad one fails here with a clear error), and learns the columns'
 * Arrow types: from the footer (arrow-hint.ts), or, where only the wasm decoder can say, by
 * opening it on the footer, which also gives its refusal. Given the footer as read (loadFooter),
 * nothing is read again; given only its layout (a worker's task), its bytes are.
 */
export async function openParquet(source: ByteSource, known?: Footer | ParquetLayout, options: ReaderOptions = {}): Promise<ParquetReader> {
  const { layout: meta, bytes } =
    known === undefined
      ? await loadFooter(source)
      : 'bytes' in known
        ? known
        : { layout: known, bytes: await source.read(known.footer.start, known.footer.end - known.footer.start) };
  const cache = new RangeCache(source);
  const timings: ReadTimings = { readMs: 0, bytesRead: 0, decodeMs: 0 };
  const footer = decoderFooter(bytes);
  /** What the page decoder reads of this file, parsed from the footer when first needed (false: nothing). */
  let plan: NumericPlan | false | undefined;
  // The Arrow types the wasm decoder gives each column: the page decoders read only the columns
  // where they are the plain numbers and strings they make. Read from the footer where it can
  // (arrow-hint.ts); else the decoder is asked, on a file of no row groups with this footer's
  // schema, which also checks that schema once, here.
  let arrowTypes = arrowHint(meta);
  if (arrowTypes === null) {
    const opened = await openDecoder({ file: source.name, where: 'footer', columns: [] }, [], 0);
    try {
      arrowTypes = new Map(tableFromIPC(opened.schema().intoIPCStream()).schema.fields.map((f) => [f.name, f.type]));
    } catch {
      arrowTypes = null;
    } finally {
      opened.free();
    }
  }

  /** A decoder over a file of `groups` (the data bytes are the real file's; the footer holds only those row groups). */
  async function openDecoder(site: DecodeSite, groups: readonly number[], rows: number): Promise<ParquetWasm.ParquetFile> {
    const blob = cache.asBlob(meta.footer.start, runFooter(footer, groups, rows));
    const pw = await parquetWasm();
    const file = await decoding(site, () => pw.ParquetFile.fromFile(blob as unknown as Blob));
    cache.rethrowMiss();
    return file;
  }

  /**
   * Decodes the columns together; when that fails with several columns, decodes each alone to
   * name the one at fault (only then: a failure is rare, and the file is refused anyway).
   */
  async function* batches(
    segments: readonly RowRange[],
    columns: readonly string[],
    batchSize: number,
    batchOptions: BatchOptions = {},
  ): AsyncGenerator<RecordBatch> {
    for (const run of decoderRuns(segments, columns)) {
      try {
        yield* decodeRun(run, columns, batchSize, batchOptions.transient === true);
      } catch (e: unknown) {
        if (!decoderFailures.has(e as Error)) throw e;
        // Narrowed to the row group, then to the column, for the message.
        let at = run;
        let err = e as Error;
        for (const s of run.length > 1 ? run : []) {
          const failed = await decodeError([s], columns, batchSize);
          if (!failed) continue;
          [at, err] = [[s], failed];
          break;
        }
        if (columns.length < 2) throw err;
        throw (await columnAtFault(at, columns, batchSize)) ?? err;
      }
    }
  }

  /**
   * The segments grouped into decoder streams: consecutive whole row groups share one stream (up
   * to RUN_BYTES of chunks), so a file of many small row groups costs one stream, not one each;
   * part of a row group is a stream of its own (the decoder's offset and limit apply to one group).
   */
  function decoderRuns(segments: readonly RowRange[], columns: readonly string[]): RowRange[][] {
    const runs: RowRange[][] = [];
    let run: RowRange[] = [];
    let bytes = 0;
    for (const s of segments) {
      const group = meta.rowGroups[s.rowGroup];
      if (!group) throw new RangeError(`row group ${s.rowGroup} does not exist (the file has ${meta.rowGroups.length})`);
      if (s.offset < 0 || s.rows < 0 || s.offset + s.rows > group.numRows) {
        throw new RangeError(`rows ${s.offset}+${s.rows} are outside row group ${s.rowGroup} (${group.numRows} rows)`);
      }
      if (s.rows === 0) continue;
      const size = columns.reduce((n, c) => {
        const chunk = chunkOf(s.rowGroup, c);
        return n + chunk.end - chunk.start;
      }, 0);
      const whole = s.offset === 0 && s.rows === group.numRows;
      if (run.length > 0 && (!whole || !isWhole(run[0]!) || bytes + size > RUN_BYTES || run.length === RUN_GROUPS)) {
        runs.push(run);
        run = [];
        bytes = 0;
      }
      run.push(s);
      bytes += size;
    }
    if (run.length > 0) runs.push(run);
    return runs;
  }

  /**
   * `batchSize`, lowered so that a batch of a string column holds about STRING_BATCH_BYTES at most
   * (by its chunks' uncompressed size per row): a batch of huge strings never nears the decoder's
   * 2 GiB string offsets or its 4 GiB memory.
   */
  function boundedBatch(run: readonly RowRange[], columns: readonly string[], batchSize: number): number {
    let rows = batchSize;
    for (const s of run) {
      const group = meta.rowGroups[s.rowGroup]!;
      for (const c of columns) {
        if (meta.columns.find((col) => col.name === c)?.physical !== 'BYTE_ARRAY') continue;
        const bytes = chunkOf(s.rowGroup, c).uncompressed;
        if (bytes === undefined || group.numRows === 0) continue;
        rows = Math.min(rows, Math.max(1, Math.floor(READ_LIMITS.stringBatchBytes / (bytes / group.numRows))));
      }
    }
    return rows;
  }

  function isWhole(s: RowRange): boolean {
    return s.offset === 0 && s.rows === meta.rowGroups[s.rowGroup]!.numRows;
  }

  function chunkOf(rowGroup: number, column: string) {
    const chunk = meta.rowGroups[rowGroup]!.chunks.get(column);
    if (!chunk) throw new InvalidInputError(source.name, `row group ${rowGroup} has no data for column '${column}'`);
    return chunk;
  }

  /** The decoder's error on a run, or null when it decodes. */
  async function decodeError(run: readonly RowRange[], columns: readonly string[], batchSize: number): Promise<Error | null> {
    try {
      for await (const batch of decodeRun(run, columns, batchSize)) void batch;
      return null;
    } catch (e: unknown) {
      if (!decoderFailures.has(e as Error)) throw e;
      return e as Error;
    }
  }

  /** The first column that fails to decode alone, as its error; null when each decodes alone. */
  async function columnAtFault(run: readonly RowRange[], columns: readonly string[], batchSize: number): Promise<Error | null> {
    for (const c of columns) {
      try {
        for await (const batch of decodeRun(run, [c], batchSize)) void batch;
      } catch (e: unknown) {
        if (!decoderFailures.has(e as Error)) throw e;
        const schema = meta.columns.find((col) => col.name === c);
        // arrow-rs checks string columns for valid UTF-8 as it decodes them.
        const hint =
          schema?.physical === 'BYTE_ARRAY' && schema.logical === 'string' ? ': corrupt pages, or strings that are not valid UTF-8' : '';
        return new InvalidInputError(source.name, `${(e as InvalidInputError).problem}${hint}`, { cause: e });
      }
    }
    return null;
  }

  /**
   * One decoder stream: whole row groups, or part of one. The numeric columns the page decoder
   * reads come from it (numeric-pages.ts); the others, or all when it declines any chunk, from
   * the wasm decoder, and each batch holds both.
   */
  async function* decodeRun(
    run: readonly RowRange[],
    columns: readonly string[],
    batchSize: number,
    transient = false,
  ): AsyncGenerator<RecordBatch> {
    await loadRun(run, columns);
    const wanted = directWanted(run, columns);
    if (transient && wanted?.length === columns.length) {
      yield* streamRun(run, columns, batchSize);
      return;
    }
    const direct = wanted && directColumns(run, wanted);
    const rest = direct ? columns.filter((c) => !wanted.includes(c)) : columns;
    if (!direct) {
      yield* wasmRun(run, rest, batchSize);
      return;
    }
    if (rest.length === 0) {
      cache.release();
      // Batches as the wasm decoder cuts them: within a row group, of at most the batch size.
      let at = 0;
      const rowsPerBatch = boundedBatch(run, columns, batchSize);
      for (const s of run) {
        for (let i = 0; i < s.rows; i += rowsPerBatch) {
          const n = Math.min(rowsPerBatch, s.rows - i);
          yield directBatch(direct, at + i, n);
        }
        at += s.rows;
      }
      return;
    }
    // wasmRun refuses pages of more or fewer rows than the footer's, so the slices stay inside.
    let at = 0;
    for await (const batch of wasmRun(run, rest, batchSize)) {
      const n = batch.numRows;
      const children: Record<string, Data> = {};
      for (const c of rest) children[c] = batch.getChild(c)!.data[0]!;
      for (const [c, values] of direct) children[c] = columnData(values, at, n);
      at += n;
      yield new RecordBatch(children);
    }
  }

  /**
   * A loaded run whose columns the page decoders all read: its strings decoded whole, its numbers
   * a batch at a time as they are asked for. Strings they decline send the run to the wasm
   * decoder, as on the whole-column path; a page of numbers they decline on the way hands the
   * rest of the run, from the batch that met it, to the wasm decoder, which reads it or gives the
   * file the error the whole-column path gives it.
   */
  async function* streamRun(run: readonly RowRange[], columns: readonly string[], batchSize: number): AsyncGenerator<RecordBatch> {
    const known = plan as NumericPlan;
    const numeric = columns.filter((c) => known.columns.has(c));
    const strings = directColumns(
      run,
      columns.filter((c) => !known.columns.has(c)),
    );
    if (!strings) {
      yield* wasmRun(run, columns, batchSize);
      return;
    }
    const rowsPerBatch = boundedBatch(run, columns, batchSize);
    const buffers = new Map(numeric.map((c) => [c, new Float64Array(Math.min(rowsPerBatch, Math.max(...run.map((s) => s.rows))))]));
    const chunkBytes = run.map((s) =>
      numeric.map((c) => {
        const range = chunkOf(s.rowGroup, c);
        return cache.lookup(range.start, range.end);
      }),
    );
    cache.release();
    let at = 0;
    let declined = false;
    for (const [k, s] of run.entries()) {
      const rows = meta.rowGroups[s.rowGroup]!.numRows;
      let cursors: NumericCursor[] = [];
      for (let i = 0; i < s.rows; i += rowsPerBatch) {
        const n = Math.min(rowsPerBatch, s.rows - i);
        const t = performance.now();
        try {
          if (i === 0) {
            cursors = numeric.map((c, j) => {
              const bytes = chunkBytes[k]![j];
              if (!bytes) throw new PageDecodeError('chunk not loaded');
              const cursor = new NumericCursor(bytes, known.columns.get(c)!, known.chunks[s.rowGroup]!.get(c)!, rows);
              cursor.read(null, 0, s.offset);
              return cursor;
            });
          }
          cursors.forEach((cursor, j) => cursor.read(buffers.get(numeric[j]!)!, 0, n));
        } catch (e: unknown) {
          if (!(e instanceof PageDecodeError)) throw e;
          declined = true;
        } finally {
          timings.decodeMs += performance.now() - t;
        }
        if (declined) {
          // From the segment's start, not the batch's: the wasm decoder then reads a whole row
          // group as the whole-column path has it read, with the same checks (given an offset and
          // a limit it stops there, past pages it never sees), and the rows already given are dropped.
          let skip = i;
          for (const r of decoderRuns(run.slice(k), columns)) {
            // The prefetch was released: loaded again.
            await loadRun(r, columns);
            for await (const batch of wasmRun(r, columns, batchSize)) {
              if (skip >= batch.numRows) {
                skip -= batch.numRows;
                continue;
              }
              yield skip > 0 ? batch.slice(skip) : batch;
              skip = 0;
            }
          }
          return;
        }
        const children: Record<string, Data> = {};
        for (const c of columns) {
          const buffer = buffers.get(c);
          children[c] = buffer ? columnData(buffer, 0, n) : columnData(strings.get(c)!, at + i, n);
        }
        yield new RecordBatch(children);
      }
      at += s.rows;
    }
  }

  /** Prefetches the run's chunks of `columns` into the range cache, replacing what it held. */
  async function loadRun(run: readonly RowRange[], columns: readonly string[]): Promise<void> {
    const t = performance.now();
    timings.bytesRead += await cache.load(run.flatMap((s) => columns.map((c) => chunkOf(s.rowGroup, c))));
    timings.readMs += performance.now() - t;
  }

  /**
   * The columns of the run the page decoders may read (numbers, UTF-8 strings whose Arrow types
   * they make, in every chunk of the run); null when none, or when the run is a small part of a
   * large row group (left to the wasm decoder, which skips the rest; the page decoders would
   * decode and hold all of its chunks).
   */
  function directWanted(run: readonly RowRange[], columns: readonly string[]): string[] | null {
    if (!READ_LIMITS.pageDecoders || options.pageDecoders === false) return null;
    plan ??= numericPlan(bytes) ?? false;
    if (!plan) return null;
    const known = plan;
    const types = arrowTypes;
    const wanted = columns.filter((c) => {
      const column = known.columns.get(c);
      const own = types === FOOTER_TYPES;
      const agrees = column
        ? own || sameNumbers(column.physical, types?.get(c))
        : known.strings.has(c) && (own || plainStrings(types?.get(c)));
      return agrees && run.every((s) => known.chunks[s.rowGroup]?.has(c));
    });
    if (wanted.length === 0 || run.some((s) => 2 * s.rows < meta.rowGroups[s.rowGroup]!.numRows)) return null;
    return wanted;
  }

  /**
   * The `wanted` columns of the run (directWanted's), decoded whole; null when the page decoders
   * decline any chunk (all columns then go to the wasm decoder, which gives bad files their error).
   */
  function directColumns(run: readonly RowRange[], wanted: readonly string[]): Map<string, DirectColumn> | null {
    const known = plan as NumericPlan;
    const t = performance.now();
    const out = new Map<string, DirectColumn>();
    const total = run.reduce((n, s) => n + s.rows, 0);
    try {
      for (const c of wanted) {
        const numeric = known.columns.get(c);
        const values = numeric ? new Float64Array(total) : null;
        const parts: StringChunk[] = [];
        let at = 0;
        for (const s of run) {
          const range = chunkOf(s.rowGroup, c);
          const chunkBytes = cache.lookup(range.start, range.end);
          if (!chunkBytes) return null;
          const rows = meta.rowGroups[s.rowGroup]!.numRows;
          const chunk = known.chunks[s.rowGroup]!.get(c)!;
          const whole = s.offset === 0 && s.rows === rows;
          if (numeric && values && whole) {
            decodeNumericChunk(chunkBytes, numeric, chunk, rows, values, at);
          } else if (numeric && values) {
            const all = new Float64Array(rows);
            decodeNumericChunk(chunkBytes, numeric, chunk, rows, all, 0);
            values.set(all.subarray(s.offset, s.offset + s.rows), at);
          } else {
            const strings = decodeStringChunk(
              chunkBytes,
              known.strings.get(c)!.optional,
              chunk,
              rows,
              range.uncompressed ?? 4 * chunkBytes.length,
            );
            parts.push(whole ? strings : { offsets: strings.offsets.subarray(s.offset, s.offset + s.rows + 1), data: strings.data });
          }
          at += s.rows;
        }
        const joined = values ?? concatStrings(parts);
        if (!joined) return null;
        out.set(c, joined);
      }
    } catch (e: unknown) {
      if (e instanceof PageDecodeError) return null;
      throw e;
    } finally {
      timings.decodeMs += performance.now() - t;
    }
    return out;
  }

  /** The wasm decoder over a run whose chunks are loaded. */
  async function* wasmRun(run: readonly RowRange[], columns: readonly string[], batchSize: number): AsyncGenerator<RecordBatch> {
    const first = run[0]!;
    const partial = run.length === 1 && !isWhole(first);
    let t: number;
    const where = run.length === 1 ? `row group ${first.rowGroup}` : `row groups ${first.rowGroup}–${run[run.length - 1]!.rowGroup}`;
    const site: DecodeSite = { file: source.name, where, columns };
    const groups = run.map((s) => s.rowGroup);
    const footerRows = groups.reduce((n, g) => n + meta.rowGroups[g]!.numRows, 0);
    const file = await openDecoder(site, groups, footerRows);
    const pw = await parquetWasm();
    const rowsPerBatch = boundedBatch(run, columns, batchSize);
    // The footer's count against the pages': a file where they disagree is refused, not half-read.
    const expected = partial ? first.rows : footerRows;
    let produced = 0;
    const disagree = () =>
      new InvalidInputError(
        source.name,
        `${where}: the footer says ${footerRows.toLocaleString('en-US')} rows, the pages of ${columns.length === 1 ? `column '${columns[0]}'` : 'its columns'} hold ${produced > expected ? 'more' : produced.toLocaleString('en-US')}: the file is corrupt`,
      );
    try {
      const stream = await decoding(site, () =>
        file.stream({
          rowGroups: groups.map((_, i) => i),
          columns: [...columns],
          ...(partial ? { offset: first.offset, limit: first.rows } : {}),
          batchSize: rowsPerBatch,
        }),
      );
      const reader = stream.getReader();
      try {
        for (;;) {
          t = performance.now();
          const next = await decoding(site, () => reader.read());
          cache.rethrowMiss();
          if (next.done) break;
          const batch = toArrow(pw, next.value as ParquetWasm.RecordBatch);
          timings.decodeMs += performance.now() - t;
          produced += batch.numRows;
          if (produced > expected) throw disagree();
          // The decoder fetches a row group's chunks into wasm memory when it starts on it: after
          // the first batch of a lone row group the prefetched copy is no longer needed.
          if (run.length === 1) cache.release();
          yield batch;
        }
        if (produced !== expected) throw disagree();
      } finally {
        reader.releaseLock();
      }
    } finally {
      cache.release();
      file.free();
    }
  }

  return { source, layout: meta, timings, batches };
}

/** Compressed chunk bytes one decoder stream prefetches at most (a larger row group is a stream alone). */
const RUN_BYTES = 64 * 1024 * 1024;
/**
 * Bytes of a string column one decoded batch aims to hold at most (see boundedBatch), lowerable
 * for tests; and whether numeric and string columns may be decoded from their pages
 * (numeric-pages.ts, string-pages.ts): off, everything goes through the wasm decoder, as tests compare.
 */
export const READ_LIMITS = { stringBatchBytes: 128 * 1024 * 1024, pageDecoders: true };
/** Row groups one decoder stream reads at most: the decoder takes at most 32,767 row groups in a file. */
const RUN_GROUPS = 8192;

/** True when the wasm decoder gives a column of `physical` as the plain Arrow numbers of that type (not a duration, a narrower int...). */
function sameNumbers(physical: NumericPhysical, type: DataType | undefined): boolean {
  if (!type) return false;
  const t = type as DataType & { precision?: Precision; bitWidth?: number; isSigned?: boolean };
  switch (physical) {
    case 'DOUBLE':
      return t.typeId === Type.Float && t.precision === Precision.DOUBLE;
    case 'FLOAT':
      return t.typeId === Type.Float && t.precision === Precision.SINGLE;
    case 'INT32':
      return t.typeId === Type.Int && t.bitWidth === 32 && t.isSigned === true;
    case 'INT64':
      return t.typeId === Type.Int && t.bitWidth === 64 && t.isSigned === true;
    case 'BOOLEAN':
      return t.typeId === Type.Bool;
  }
}

/** A column decoded by a page decoder: numbers as float64 (null → NaN), or strings. */
type DirectColumn = Float64Array | StringChunk;

/**
 * Rows [at, at + n) of a decoded column as Arrow data: float64 with no nulls (they are NaN
 * already, as toFloat64 makes them), or Utf8 (Arrow takes offsets that do not start at 0).
 */
function columnData(column: DirectColumn, at: number, n: number): Data {
  if (column instanceof Float64Array) return makeData({ type: new Float64(), length: n, nullCount: 0, data: column.subarray(at, at + n) });
  return makeData({ type: new Utf8(), length: n, nullCount: 0, valueOffsets: column.offsets.subarray(at, at + n + 1), data: column.data });
}

/** Rows of decoded columns as one batch. */
function directBatch(columns: ReadonlyMap<string, DirectColumn>, at: number, n: number): RecordBatch {
  const children: Record<string, Data> = {};
  for (const [c, values] of columns) children[c] = columnData(values, at, n);
  return new RecordBatch(children);
}

/** The strings of consecutive segments as one chunk (offsets from 0), or null past Int32 offsets. */
function concatStrings(parts: readonly StringChunk[]): StringChunk | null {
  if (parts.length === 1) return parts[0]!;
  const rows = parts.reduce((n, p) => n + p.offsets.length - 1, 0);
  const bytes = parts.reduce((n, p) => n + p.offsets[p.offsets.length - 1]! - p.offsets[0]!, 0);
  if (bytes > 2 ** 31 - 1) return null;
  const offsets = new Int32Array(rows + 1);
  const data = new Uint8Array(bytes);
  let row = 0;
  let pos = 0;
  for (const p of parts) {
    const base = p.offsets[0]!;
    const end = p.offsets[p.offsets.length - 1]!;
    data.set(p.data.subarray(base, end), pos);
    for (let i = 1; i < p.offsets.length; i++) offsets[++row] = p.offsets[i]! - base + pos;
    pos += end - base;
  }
  return { offsets, data };
}

/** True when the wasm decoder gives a string column as plain Utf8 or LargeUtf8 (not dictionary-encoded, not a view). */
function plainStrings(type: DataType | undefined): boolean {
  return type !== undefined && (type.typeId === Type.Utf8 || type.typeId === Type.LargeUtf8);
}

/** Copies a wasm RecordBatch into JS memory as an apache-arrow RecordBatch and frees the wasm side. */
function toArrow(pw: typeof ParquetWasm, batch: ParquetWasm.RecordBatch): RecordBatch {
  const ffi = batch.intoFFI();
  try {
    return parseRecordBatch(pw.wasmMemory().buffer, ffi.arrayAddr(), ffi.schemaAddr(), true);
  } finally {
    ffi.free();
  }
}

/**
 * Runs a decoder call under the process's panic guard, turning its errors (plain strings or
 * Errors from wasm, or a panic) into an InvalidInputError naming the file and where it was.
 */
async function decoding<T>(site: DecodeSite, op: () => Promise<T>): Promise<T> {
  try {
    return await panicGuard.run(site, op);
  } catch (e: unknown) {
    if (e instanceof PipelineError && !(e instanceof InvalidInputError && e.cause instanceof Error && e.cause.name === 'RuntimeError'))
      throw e;
    const err =
      e instanceof InvalidInputError
        ? e
        : new InvalidInputError(
            site.file,
            `cannot decode ${site.where}${columnsNote(site.columns)}: ${messageOf(e).replace(/^Error: /, '')}`,
            { cause: e },
          );
    decoderFailures.add(err);
    throw err;
  }
}

/** The errors the decoder raised (not our own checks): the ones worth narrowing to a column. */
const decoderFailures = new WeakSet<Error>();
