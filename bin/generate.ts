/**
 * generate OUT.parquet --rows N [--row-group-size R] [--seed S] [--compression C]
 *
 * Streams realistic Spotify-like tracks (see lib/tracks-generator.ts) into a Parquet file with
 * parquet-wasm's streaming writer, one block of rows at a time, so memory stays flat whatever N is.
 * The file is written beside OUT under a temporary name and renamed to OUT only once its
 * metadata has been read back and checked (row count and row-group sizes).
 */
import { closeSync, openAsBlob, openSync, realpathSync, writeSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { tableToIPC } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { generateTracksBlock, sliceTracks, tracksToTable, TRACKS_BLOCK_ROWS } from '../lib/tracks-generator.ts';
import type { TracksChunk } from '../lib/tracks-generator.ts';

/** The one-line usage message printed with argument errors. */
export const USAGE =
  'usage: generate OUT.parquet --rows N [--row-group-size R] [--seed S] [--compression snappy|zstd|gzip|brotli|lz4|none]';

const COMPRESSIONS = {
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

/** A bad command line: the CLI prints the message and the usage line and exits with code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parsed command line of the generate CLI. */
export interface GenerateArgs extends Required<Omit<GenerateOptions, 'onProgress'>> {
  out: string;
}

function parseCount(flag: string, raw: string | undefined, min: number): number {
  if (raw === undefined) throw new UsageError(`missing required option --${flag}`);
  const text = raw.replace(/_/g, '');
  if (!/^\d+$/.test(text)) throw new UsageError(`--${flag} must be a whole number, got '${raw}'`);
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new UsageError(`--${flag} is too large: '${raw}'`);
  if (value < min) throw new UsageError(`--${flag} must be at least ${min}, got ${value}`);
  return value;
}

/** Parses CLI arguments (without node and script) into options; throws {@link UsageError} when they are bad. */
export function parseGenerateArgs(argv: readonly string[]): GenerateArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        rows: { type: 'string' },
        'row-group-size': { type: 'string' },
        seed: { type: 'string' },
        compression: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    // node's messages can carry a long hint after the first sentence ("Unknown option '--x'. To specify ...").
    const message = err instanceof Error ? err.message : String(err);
    throw new UsageError(message.split(/\.\s/)[0]!.replace(/\.$/, ''));
  }
  const { values, positionals } = parsed;
  if (values.help) throw new UsageError('');
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? 'missing output path OUT.parquet' : `expected one output path, got ${positionals.length}: ${positionals.join(' ')}`);
  }
  const compression = values.compression ?? 'snappy';
  if (!Object.hasOwn(COMPRESSIONS, compression)) {
    throw new UsageError(`--compression must be one of ${Object.keys(COMPRESSIONS).join(', ')}, got '${compression}'`);
  }
  return {
    out: positionals[0]!,
    rows: parseCount('rows', values.rows, 1),
    rowGroupSize: values['row-group-size'] === undefined ? DEFAULT_ROW_GROUP_SIZE : parseCount('row-group-size', values['row-group-size'], 1),
    seed: values.seed === undefined ? DEFAULT_SEED : parseCount('seed', values.seed, 0),
    compression: compression as CompressionName,
  };
}

/**
 * Row ranges [start, end) of the batches fed to the writer: the deterministic generator blocks,
 * further cut at every row-group boundary so that no batch straddles two row groups. (parquet-wasm
 * 0.8's writer splits straddling batches itself; the cut keeps row groups exact even if it did not.)
 */
export function* batchRanges(rows: number, rowGroupSize: number, blockRows = TRACKS_BLOCK_ROWS): Generator<[number, number]> {
  for (let start = 0; start < rows; ) {
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

/** Reads the row count of every row group of a Parquet file from its footer. */
export async function readRowGroupRows(path: string): Promise<number[]> {
  const file = await pw.ParquetFile.fromFile(await openAsBlob(path));
  try {
    const meta = file.metadata();
    return meta.rowGroups().map((g) => {
      const rows = g.numRows();
      g.free();
      return rows;
    });
  } finally {
    file.free();
  }
}

/**
 * Streams `options.rows` generated tracks into the Parquet file `out` (temporary file beside it,
 * renamed on success) and returns what was written; rejects, leaving no file behind, on any failure.
 */
export async function writeTracksParquet(out: string, options: GenerateOptions): Promise<GenerateSummary> {
  const started = performance.now();
  const { rows, seed = DEFAULT_SEED, rowGroupSize = DEFAULT_ROW_GROUP_SIZE, compression = 'snappy', onProgress } = options;
  if (!Number.isSafeInteger(rows) || rows < 1) throw new RangeError(`rows must be a positive integer, got ${rows}`);
  if (!Number.isSafeInteger(rowGroupSize) || rowGroupSize < 1) throw new RangeError(`rowGroupSize must be a positive integer, got ${rowGroupSize}`);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
  if (!Object.hasOwn(COMPRESSIONS, compression)) throw new RangeError(`unknown compression '${compression}'`);

  const ranges = batchRanges(rows, rowGroupSize);
  let block: { index: number; chunk: TracksChunk } | undefined;
  // parquet-wasm's writer skips stream items that fail and still closes the file cleanly, so a
  // generator error would silently truncate it: remember the error and fail after the pipe.
  let sourceError: unknown;
  let aborted = false; // set on failure so that the writer's background loop stops pulling
  const source = new ReadableStream<pw.RecordBatch>(
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
          sourceError = err;
          controller.error(err);
        }
      },
    },
    { highWaterMark: 0 },
  );

  const properties = new pw.WriterPropertiesBuilder()
    .setCompression(COMPRESSIONS[compression])
    .setMaxRowGroupSize(rowGroupSize)
    .setCreatedBy('track-embeddings generate')
    // ids are unique: the writer would build a dictionary, overflow it and fall back to plain
    // encoding for every row group anyway; skipping that saves about a fifth of the write time.
    .setColumnDictionaryEnabled('id', false)
    .build();

  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  let fd: number | undefined;
  try {
    await mkdir(dirname(out), { recursive: true });
    fd = openSync(tmp, 'wx');
    const parquetBytes: ReadableStream<Uint8Array> = await pw.transformParquetStream(source, properties);
    await parquetBytes.pipeTo(fileSink(fd));
    closeSync(fd);
    fd = undefined;
    if (sourceError !== undefined) throw sourceError;
    const rowGroupRows = await readRowGroupRows(tmp);
    const total = rowGroupRows.reduce((a, b) => a + b, 0);
    if (total !== rows) throw new Error(`parquet writer produced ${total} rows, expected ${rows}`);
    const expectedGroups = Math.ceil(rows / rowGroupSize);
    const aligned = rowGroupRows.length === expectedGroups && rowGroupRows.every((r, i) => r === Math.min(rowGroupSize, rows - i * rowGroupSize));
    if (!aligned) throw new Error(`parquet writer produced row groups [${rowGroupRows.join(', ')}], expected ${rowGroupSize} rows each`);
    const { size } = await stat(tmp);
    await rename(tmp, out);
    return { path: out, rows, rowGroupRows, bytes: size, seconds: (performance.now() - started) / 1000 };
  } catch (err) {
    aborted = true;
    if (fd !== undefined) closeSync(fd);
    await rm(tmp, { force: true });
    throw sourceError ?? err;
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
        for (let offset = 0; offset < chunk.byteLength; ) offset += writeSync(fd, chunk, offset);
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: 1 }),
  );
}

function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** Runs the CLI on `argv` (arguments after the script) and resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let args: GenerateArgs;
  try {
    args = parseGenerateArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    if (err.message === '') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    process.stderr.write(`generate: ${err.message}\n${USAGE}\n`);
    return 2;
  }
  const tty = process.stderr.isTTY === true;
  let lastPercent = -1;
  try {
    const summary = await writeTracksParquet(args.out, {
      ...args,
      onProgress: tty
        ? (done, total) => {
            const percent = Math.floor((100 * done) / total);
            if (percent !== lastPercent) {
              lastPercent = percent;
              process.stderr.write(`\rgenerate: ${percent}% (${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} rows)`);
            }
          }
        : undefined,
    });
    if (tty) process.stderr.write('\r\x1b[K');
    const peakRss = process.resourceUsage().maxRSS * 1024; // maxRSS is in KiB
    process.stdout.write(
      `wrote ${summary.path}: ${summary.rows.toLocaleString('en-US')} rows, ${summary.rowGroupRows.length} row group${summary.rowGroupRows.length === 1 ? "" : "s"}, ` +
        `${formatBytes(summary.bytes)}, ${summary.seconds.toFixed(2)} s, peak RSS ${formatBytes(peakRss)}\n`,
    );
    return 0;
  } catch (err) {
    if (tty) process.stderr.write('\n');
    process.stderr.write(`generate: failed to write ${args.out}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  process.exitCode = await main(process.argv.slice(2));
}
