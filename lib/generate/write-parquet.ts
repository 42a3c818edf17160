/**
 * Writes generated tracks (tracks.ts) to Parquet with parquet-wasm's streaming
 * writer, one block of rows at a time, so memory stays flat whatever the row count. The file is
 * written in a temporary folder beside its destination (io/output-folder.ts) and renamed only
 * once its metadata has been read back and checked (row count and row-group sizes): parquet-wasm 0.8's streaming
 * writer ignores errors of individual batch writes.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { OutputFolder } from '../io/output-folder.ts';
import { openFileSource } from '../io/file-source.ts';
import { readFooter } from '../parquet/footer.ts';
import { tableToIPC } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { generateTracksBlock } from './tracks.ts';
import { sliceTracks, tracksToTable, TRACKS_BLOCK_ROWS, type TracksChunk } from './schema.ts';

export const COMPRESSIONS = {
  snappy: pw.Compression.SNAPPY,
  zstd: pw.Compression.ZSTD,
  gzip: pw.Compression.GZIP,
  brotli: pw.Compression.BROTLI,
  lz4: pw.Compression.LZ4_RAW, // what pyarrow means by "lz4"; plain LZ4 is deprecated in the format
  none: pw.Compression.UNCOMPRESSED,
} as const;

/** A compression codec name accepted by `--compression`. */
export type CompressionName = keyof typeof COMPRESSIONS;

/** pyarrow's default maximum row-group size. */
export const DEFAULT_ROW_GROUP_SIZE = 1_048_576;
/** The reference generator's default seed. */
export const DEFAULT_SEED = 1921;

/** Options for {@link writeTracksParquet}; all but `rows` have the CLI's defaults. */
export interface GenerateOptions {
  rows: number;
  seed?: number;
  rowGroupSize?: number;
  compression?: CompressionName;
  /** Called after each batch is handed to the writer with the rows handed over so far. */
  onProgress?: (rowsDone: number, rowsTotal: number) => void;
}

/** What {@link writeTracksParquet} wrote, read back from the file's metadata. */
export interface GenerateSummary {
  path: string;
  rows: number;
  rowGroupRows: number[];
  bytes: number;
  seconds: number;
}

/**
 * Row ranges [start, end) of the batches fed to the writer: the deterministic generator blocks,
 * further cut at every row-group boundary so that no batch straddles two row groups. (parquet-wasm
 * 0.8's writer splits straddling batches itself; the cut keeps row groups exact even if it did not.)
 */
export function* batchRanges(rows: number, rowGroupSize: number, blockRows = TRACKS_BLOCK_ROWS): Generator<[number, number]> {
  for (let start = 0; start < rows;) {
    const nextBlock = (Math.floor(start / blockRows) + 1) * blockRows;
    const nextGroup = (Math.floor(start / rowGroupSize) + 1) * rowGroupSize;
    const end = Math.min(rows, nextBlock, nextGroup);
    yield [start, end];
    start = end;
  }
}

/** Converts a chunk to a parquet-wasm RecordBatch through an Arrow IPC stream. */
function toWasmBatch(chunk: TracksChunk): pw.RecordBatch {
  const table = pw.Table.fromIPCStream(tableToIPC(tracksToTable(chunk), 'stream'));
  try {
    const batches = table.recordBatches();
    if (batches.length !== 1) throw new Error(`expected 1 record batch from IPC, got ${batches.length}`);
    return batches[0]!;
  } finally {
    table.free();
  }
}

/** Reads the row count of every row group of a Parquet file from its footer (our footer reader). */
export async function readRowGroupRows(path: string): Promise<number[]> {
  const source = await openFileSource(path);
  try {
    return (await readFooter(source)).rowGroups.map((g) => g.numRows);
  } finally {
    await source.close();
  }
}

/** The generated rows as a stream of wasm batches; `error` keeps a generator failure the writer would swallow. */
interface BatchSource {
  stream: ReadableStream<pw.RecordBatch>;
  readonly error: unknown;
  /** Stops the writer's background loop from pulling more batches. */
  abort(): void;
}

function batchSource(rows: number, rowGroupSize: number, seed: number, onProgress: GenerateOptions['onProgress']): BatchSource {
  const ranges = batchRanges(rows, rowGroupSize);
  let block: { index: number; chunk: TracksChunk } | undefined;
  // parquet-wasm's writer skips stream items that fail and still closes the file cleanly, so a
  // generator error would silently truncate it: remember the error and fail after the pipe.
  let error: unknown;
  let aborted = false;
  const stream = new ReadableStream<pw.RecordBatch>(
    {
      pull(controller) {
        try {
          const range = aborted ? undefined : ranges.next().value;
          if (range === undefined) {
            controller.close();
            return;
          }
          const [start, end] = range;
          const index = Math.floor(start / TRACKS_BLOCK_ROWS);
          if (block?.index !== index) block = { index, chunk: generateTracksBlock(seed, index) };
          const base = index * TRACKS_BLOCK_ROWS;
          controller.enqueue(toWasmBatch(sliceTracks(block.chunk, start - base, end - base)));
          onProgress?.(end, rows);
        } catch (err) {
          error = err;
          controller.error(err);
        }
      },
    },
    { highWaterMark: 0 },
  );
  return {
    stream,
    get error() {
      return error;
    },
    abort: () => {
      aborted = true;
    },
  };
}

/**
 * Streams `options.rows` generated tracks into the Parquet file `out` (temporary file beside it,
 * renamed on success) and returns what was written; rejects, leaving no file behind, on any failure.
 */
export async function writeTracksParquet(out: string, options: GenerateOptions): Promise<GenerateSummary> {
  const started = performance.now();
  const { rows, seed = DEFAULT_SEED, rowGroupSize = DEFAULT_ROW_GROUP_SIZE, compression = 'snappy', onProgress } = options;
  if (!Number.isSafeInteger(rows) || rows < 1) throw new RangeError(`rows must be a positive integer, got ${rows}`);
  if (!Number.isSafeInteger(rowGroupSize) || rowGroupSize < 1)
    throw new RangeError(`rowGroupSize must be a positive integer, got ${rowGroupSize}`);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
  if (!Object.hasOwn(COMPRESSIONS, compression)) throw new RangeError(`unknown compression '${compression}'`);

  const source = batchSource(rows, rowGroupSize, seed, onProgress);
  const properties = new pw.WriterPropertiesBuilder()
    .setCompression(COMPRESSIONS[compression])
    .setMaxRowGroupSize(rowGroupSize)
    .setCreatedBy('track-embeddings generate')
    // ids are unique: the writer would build a dictionary, overflow it and fall back to plain
    // encoding for every row group anyway; skipping that saves about a fifth of the write time.
    .setColumnDictionaryEnabled('id', false)
    .build();

  const folder = await OutputFolder.open(dirname(out));
  const tmp = folder.path(basename(out));
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx');
    const parquetBytes: ReadableStream<Uint8Array> = await pw.transformParquetStream(source.stream, properties);
    await parquetBytes.pipeTo(fileSink(fd));
    closeSync(fd);
    fd = undefined;
    if (source.error !== undefined) throw source.error;
    const rowGroupRows = await readRowGroupRows(tmp);
    const total = rowGroupRows.reduce((a, b) => a + b, 0);
    if (total !== rows) throw new Error(`parquet writer produced ${total} rows, expected ${rows}`);
    const expectedGroups = Math.ceil(rows / rowGroupSize);
    const aligned =
      rowGroupRows.length === expectedGroups && rowGroupRows.every((r, i) => r === Math.min(rowGroupSize, rows - i * rowGroupSize));
    if (!aligned) throw new Error(`parquet writer produced row groups [${rowGroupRows.join(', ')}], expected ${rowGroupSize} rows each`);
    const { size } = await stat(tmp);
    await folder.commit([basename(out)]);
    return { path: out, rows, rowGroupRows, bytes: size, seconds: (performance.now() - started) / 1000 };
  } catch (err) {
    source.abort();
    if (fd !== undefined) closeSync(fd);
    throw source.error ?? err;
  } finally {
    await folder.discard();
  }
}

/**
 * A byte sink writing each chunk synchronously to `fd`, with a byte-counting queue of one byte.
 * parquet-wasm emits a whole row group (tens of MB) as one chunk; with an asynchronous sink
 * (e.g. `Writable.toWeb(fs.createWriteStream())`, whose queue counts chunks) several such chunks
 * pile up in the stream chain while the writer races ahead, doubling peak memory.
 */
function fileSink(fd: number): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>(
    {
      write(chunk) {
        for (let offset = 0; offset < chunk.byteLength;) offset += writeSync(fd, chunk, offset);
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: 1 }),
  );
}
