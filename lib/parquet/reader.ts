/**
 * Decodes chosen columns of chosen row ranges of a Parquet file, from any ByteSource, into
 * apache-arrow RecordBatches: our footer parser plans the reads, RangeCache prefetches them,
 * parquet-wasm decodes from memory, and arrow-js-ffi copies the result out of wasm memory.
 */
import * as pw from 'parquet-wasm';
import { parseRecordBatch } from 'arrow-js-ffi';
import type { RecordBatch } from 'apache-arrow';
import type { ByteSource } from '../io/byte-source.ts';
import type { ParquetLayout } from './footer.ts';
import type { RowRange } from './row-range.ts';
import { readFooter } from './footer.ts';
import { RangeCache } from './range-cache.ts';
import { InvalidInputError, PipelineError, messageOf } from '../errors.ts';
import { columnsNote, panicGuard, type DecodeSite } from './panic-guard.ts';

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
  /** Yields batches of at most `batchSize` rows of `columns` (any order) for the segment. */
  batches(segment: RowRange, columns: readonly string[], batchSize: number): AsyncGenerator<RecordBatch>;
}

/** Reads and checks the footer, then opens the decoder on it; bad files fail here with a clear error. */
export async function openParquet(source: ByteSource, layout?: ParquetLayout): Promise<ParquetReader> {
  const meta = layout ?? (await readFooter(source));
  const cache = new RangeCache(source);
  const timings: ReadTimings = { readMs: 0, bytesRead: 0, decodeMs: 0 };
  await cache.load([meta.footer]);
  const file = await decoding({ file: source.name, where: 'footer', columns: [] }, () =>
    pw.ParquetFile.fromFile(cache.asBlob() as unknown as Blob),
  );
  cache.rethrowMiss();

  /**
   * Decodes the columns together; when that fails with several columns, decodes each alone to
   * name the one at fault (only then: a failure is rare, and the file is refused anyway).
   */
  async function* batches(segment: RowRange, columns: readonly string[], batchSize: number): AsyncGenerator<RecordBatch> {
    try {
      yield* decodeBatches(segment, columns, batchSize);
    } catch (e: unknown) {
      if (!decoderFailures.has(e as Error) || columns.length < 2) throw e;
      throw (await columnAtFault(segment, columns, batchSize)) ?? e;
    }
  }

  /** The first column that fails to decode alone, as its error; null when each decodes alone. */
  async function columnAtFault(segment: RowRange, columns: readonly string[], batchSize: number): Promise<Error | null> {
    for (const c of columns) {
      try {
        for await (const batch of decodeBatches(segment, [c], batchSize)) void batch;
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

  async function* decodeBatches(segment: RowRange, columns: readonly string[], batchSize: number): AsyncGenerator<RecordBatch> {
    const group = meta.rowGroups[segment.rowGroup];
    if (!group) throw new RangeError(`row group ${segment.rowGroup} does not exist (the file has ${meta.rowGroups.length})`);
    if (segment.offset < 0 || segment.rows < 0 || segment.offset + segment.rows > group.numRows) {
      throw new RangeError(`rows ${segment.offset}+${segment.rows} are outside row group ${segment.rowGroup} (${group.numRows} rows)`);
    }
    const ranges = columns.map((c) => {
      const chunk = group.chunks.get(c);
      if (!chunk) throw new InvalidInputError(source.name, `row group ${segment.rowGroup} has no data for column '${c}'`);
      return chunk;
    });
    if (segment.rows === 0) return;
    let t = performance.now();
    timings.bytesRead += await cache.load(ranges);
    timings.readMs += performance.now() - t;
    const site: DecodeSite = { file: source.name, where: `row group ${segment.rowGroup}`, columns };
    const stream = await decoding(site, () =>
      file.stream({
        rowGroups: [segment.rowGroup],
        columns: [...columns],
        offset: segment.offset,
        limit: segment.rows,
        batchSize,
      }),
    );
    const reader = stream.getReader();
    try {
      for (;;) {
        t = performance.now();
        const next = await decoding(site, () => reader.read());
        cache.rethrowMiss();
        if (next.done) break;
        const batch = toArrow(next.value as pw.RecordBatch);
        timings.decodeMs += performance.now() - t;
        // The first batch means the decoder has fetched the row group's chunks into wasm memory.
        cache.release();
        yield batch;
      }
    } finally {
      reader.releaseLock();
    }
  }

  return { source, layout: meta, timings, batches };
}

/** Copies a wasm RecordBatch into JS memory as an apache-arrow RecordBatch and frees the wasm side. */
function toArrow(batch: pw.RecordBatch): RecordBatch {
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
