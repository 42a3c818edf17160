/**
 * An output folder too large to hold, searched as it is read: its manifest, its id index (looked
 * up a few KB at a time) and its vectors' layout are opened once; each query then reads the
 * vectors in chunks, in row order, scanning each chunk as it arrives while the next ones are on
 * their way. Memory: the chunk scanned and the NPY_READS read meanwhile ((NPY_READS + 1) ×
 * NPY_CHUNK), whatever the row count. The
 * answer is `nearest`'s over the whole matrix, bit for bit: the same scan, fed in blocks.
 */
import type { SearchOutputs, ClosableSource, FolderManifest, OutputFiles } from './embeddings.ts';
import {
  NPY_CHUNK,
  NPY_READS,
  OutputTooLargeError,
  checkVectorsShape,
  folderFiles,
  openIndexLookup,
  openOutputs,
  pinned,
  readFolderManifest,
  readNpyLayout,
} from './embeddings.ts';
import { nearestScan, type Metric, type Neighbour } from './nearest.ts';
import { heldSearch, type VectorSearch } from './query.ts';
import { fileIn } from '../outputs/manifest-check.ts';
import { mapLimit } from '../io/concurrency.ts';

/** Seed rows read at once (one small ranged read each). */
const SEED_READS = 16;

/** An output as a streamed search reads it: everything `SearchOutputs` has but the vectors in memory. */
export interface StreamedOutputs extends Omit<SearchOutputs, 'vectors'> {
  /** The vectors file (that version), where its data starts, and how much of it one read asks for. */
  vectors: { source: ClosableSource; start: number; chunkBytes: number };
}

interface StreamOptions {
  /** Rows it may have at most: past them it is refused from its manifest (OutputTooLargeError), before anything else is read. */
  maxRows?: number;
  holdIndexUpTo?: number;
  chunkBytes?: number;
}

/**
 * Opens a folder for streamed search. It must have an id index (the mapping of a folder this
 * large is not read): an older folder without one is refused as too large.
 */
export async function openStreamedOutputs(files: OutputFiles, opts: StreamOptions = {}): Promise<StreamedOutputs> {
  return pinned(async () => {
    const head = await readFolderManifest(files, opts);
    if (!streamable(files, head))
      throw new OutputTooLargeError(
        `${files.where}: too large to load, and it has no id index to search it as it is read (an older output: publish it again)`,
      );
    return openWith(files, head, opts);
  });
}

/**
 * An output opened for one query: streamed where it has an id index (the vectors are scanned
 * once either way, and streamed they are never held), else loaded (an older folder).
 */
export async function openForOneQuery(
  from: string | OutputFiles,
): Promise<{ outputs: Omit<SearchOutputs, 'vectors'>; search: VectorSearch }> {
  const files = typeof from === 'string' ? folderFiles(from) : from;
  const streamed = await pinned(async () => {
    const head = await readFolderManifest(files);
    return streamable(files, head) ? openWith(files, head, {}) : null;
  });
  if (streamed) return { outputs: streamed, search: streamedSearch(streamed) };
  const held = await openOutputs(files);
  return { outputs: held, search: heldSearch(held) };
}

/** Whether the folder can be searched as it is read: it has an id index, and its files can be read in ranges. */
function streamable(files: OutputFiles, head: FolderManifest): boolean {
  return head.manifest.outputs.idIndex !== undefined && files.source !== undefined;
}

/** The vectors' layout and the id lookup of a folder whose manifest `head` has been read and names an id index. */
async function openWith(files: OutputFiles, head: FolderManifest, opts: StreamOptions): Promise<StreamedOutputs> {
  const dir = files.where;
  const { manifest } = head;
  const file = manifest.outputs.vectors;
  const source = await files.source!(file, head.etagOf(file));
  try {
    const layout = await readNpyLayout(source, fileIn(dir, file));
    checkVectorsShape(dir, manifest, layout);
    const lookup = await openIndexLookup(files, head, opts.holdIndexUpTo ?? 0);
    return {
      dir,
      manifest,
      rows: head.rows,
      dims: layout.cols,
      lookup,
      vectors: { source, start: layout.start, chunkBytes: opts.chunkBytes ?? NPY_CHUNK },
    };
  } catch (e: unknown) {
    await source.close?.();
    throw e;
  }
}

/** Some rows' vectors, packed in the order given (a playlist's seeds), each read by its own small range. */
export async function streamedRows(s: StreamedOutputs, rows: readonly number[]): Promise<Float32Array> {
  const { source, start } = s.vectors;
  const width = s.dims * 4;
  const packed = new Float32Array(rows.length * s.dims);
  await mapLimit([...rows.keys()], SEED_READS, async (i) => {
    const bytes = await source.read(start + rows[i]! * width, width);
    new Uint8Array(packed.buffer, i * width, width).set(bytes);
  });
  return packed;
}

/** The search over a streamed output: rows read by range, the scan fed chunk by chunk. */
export const streamedSearch = (s: StreamedOutputs): VectorSearch => ({
  rowsOf: (rows) => streamedRows(s, rows),
  nearest: (v, k, metric, exclude) => streamedNearest(s, v, k, metric, exclude),
});

/** The k rows nearest to `query` (see `nearest`), the vectors read chunk by chunk. */
export async function streamedNearest(
  s: StreamedOutputs,
  query: Float64Array,
  k: number,
  metric: Metric,
  exclude: ReadonlySet<number> = new Set(),
): Promise<Neighbour[]> {
  const { source, start, chunkBytes } = s.vectors;
  const width = s.dims * 4;
  const chunkRows = Math.max(1, Math.floor(chunkBytes / width));
  const chunks = Math.ceil(s.rows / chunkRows);
  const scan = nearestScan(s.rows, s.dims, query, k, metric, exclude);
  const inFlight: Promise<Uint8Array>[] = [];
  let issued = 0;
  const issue = () => {
    const first = issued++ * chunkRows;
    const read = source.read(start + first * width, Math.min(chunkRows, s.rows - first) * width);
    // Awaited in turn below, unless an earlier chunk's read fails first.
    read.catch(() => undefined);
    inFlight.push(read);
  };
  while (issued < Math.min(chunks, NPY_READS)) issue();
  for (let c = 0; c < chunks; c++) {
    const bytes = await inFlight.shift()!;
    if (issued < chunks) issue();
    scan.offer(floats(bytes), c * chunkRows);
  }
  return scan.result();
}

/** The bytes as float32s: in place when aligned, else copied. */
function floats(bytes: Uint8Array): Float32Array {
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return new Float32Array(bytes.slice().buffer);
}
