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
import type { Segment } from '../embedding/shard-plan.ts';
import { readFooter } from './footer.ts';
import { RangeCache } from './range-cache.ts';
import { InvalidInputError, PipelineError, messageOf } from '../errors.ts';

/**
 * What the decoder is working on right now, for the one error it cannot report itself: on
 * corrupt page data parquet-wasm panics (an uncaught `RuntimeError: unreachable`), outside any
 * promise we hold. Whoever catches that panic names the input and row group from this.
 */
export let decodingNow: { file: string; rowGroup: number; columns: readonly string[] } | null = null;

/** The error to report for a wasm panic caught while `decodingNow` was set. */
export function decoderPanicError(e: unknown): InvalidInputError | null {
  if (!(e instanceof Error) || e.name !== 'RuntimeError' || !decodingNow) return null;
  const { file, rowGroup, columns } = decodingNow;
  return new InvalidInputError(
    file,
    `corrupt data in row group ${rowGroup} (columns ${columns.join(', ')}): the Parquet decoder failed (${e.message})`,
    { cause: e },
  );
}

/**
 * Runs `work`, turning a decoder panic during it into a rejection with the input's error
 * instead of a process crash. For long-lived processes (a Lambda sandbox, the local pipeline),
 * where the local runner's workers can simply exit. The wasm instance may be unusable after a
 * panic, but the input is refused either way.
 */
export function guardDecoderPanics<T>(work: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const guard = (e: InvalidInputError) => reject(e);
    if (guards.size === 0) process.on('uncaughtException', onPanic);
    guards.add(guard);
    work()
      .then(resolve, reject)
      .finally(() => {
        guards.delete(guard);
        if (guards.size === 0) process.off('uncaughtException', onPanic);
      });
  });
}

// One process listener however many guarded decodes run at once (the local pipeline runs
// many handlers in one process); a panic fails every decode in flight, as the wasm instance is shared.
const guards = new Set<(e: InvalidInputError) => void>();
function onPanic(e: unknown): void {
  const err = decoderPanicError(e);
  if (!err) throw e;
  for (const guard of guards) guard(err);
}

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
  batches(segment: Segment, columns: readonly string[], batchSize: number): AsyncGenerator<RecordBatch>;
}

/** Reads and checks the footer, then opens the decoder on it; bad files fail here with a clear error. */
export async function openParquet(source: ByteSource, layout?: ParquetLayout): Promise<ParquetReader> {
  const meta = layout ?? (await readFooter(source));
  const cache = new RangeCache(source);
  const timings: ReadTimings = { readMs: 0, bytesRead: 0, decodeMs: 0 };
  await cache.load([meta.footer]);
  const file = await decoding(source, 'footer', () => pw.ParquetFile.fromFile(cache.asBlob() as unknown as Blob));
  cache.rethrowMiss();

  async function* batches(segment: Segment, columns: readonly string[], batchSize: number): AsyncGenerator<RecordBatch> {
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
    const where = `row group ${segment.rowGroup}`;
    const stream = await decoding(source, where, () =>
      file.stream({
        rowGroups: [segment.rowGroup],
        columns: [...columns],
        offset: segment.offset,
        limit: segment.rows,
        batchSize,
      }),
    );
    const reader = stream.getReader();
    decodingNow = { file: source.name, rowGroup: segment.rowGroup, columns };
    try {
      for (;;) {
        t = performance.now();
        const next = await decoding(source, where, () => reader.read());
        cache.rethrowMiss();
        if (next.done) break;
        const batch = toArrow(next.value as pw.RecordBatch);
        timings.decodeMs += performance.now() - t;
        // The first batch means the decoder has fetched the row group's chunks into wasm memory.
        cache.release();
        yield batch;
      }
    } finally {
      decodingNow = null;
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

/** Runs a decoder call, turning its errors (plain strings or Errors from wasm) into an InvalidInputError. */
async function decoding<T>(source: ByteSource, where: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e: unknown) {
    if (e instanceof PipelineError) throw e;
    throw new InvalidInputError(source.name, `cannot decode ${where}: ${messageOf(e).replace(/^Error: /, '')}`, { cause: e });
  }
}
