/**
 * A published output folder, loaded for search: the vectors (.npy), the id → row mapping and the
 * manifest, checked against each other. Every reader of a folder (`similar`, the query function)
 * loads it here; a refusal is one OutputFolderError naming the file and the problem.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST_FILE } from '../outputs/file-names.ts';
import type { Manifest } from '../outputs/manifest.ts';
import { checkManifest, fileIn, isFolderFileName, oneLine, OutputFolderError, shown } from '../outputs/manifest-check.ts';
import type { ByteSource } from '../io/byte-source.ts';
import { openFileSource } from '../io/file-source.ts';
import { mapLimit } from '../io/concurrency.ts';
import { mapLookup, openIdIndex, type IdLookup } from './id-lookup.ts';

export { OutputFolderError } from '../outputs/manifest-check.ts';

/** An output folder as search reads it: the vectors, and its ids through lookups. */
export interface SearchOutputs {
  dir: string;
  manifest: Manifest;
  rows: number;
  dims: number;
  /** Row-major, rows × dims. */
  vectors: Float32Array;
  /** Id ↔ row: through id_index.bin where the folder has one (a few KB a lookup), else the parsed mapping. */
  lookup: IdLookup;
}

export interface Embeddings extends SearchOutputs {
  /** The id → row mapping (the last row of a repeated id). */
  index: Map<string, number>;
  /** Each row's id, or null for a row whose id repeats later (the mapping names the last one). */
  ids: (string | null)[];
}

/** Where an output folder's files come from: a local folder, or a prefix in S3 (lib/aws/s3-outputs.ts). */
export interface OutputFiles {
  /** The folder as shown in messages (a path, or an s3:// URL). */
  where: string;
  /**
   * A file's bytes; a missing file is an OutputFolderError (for the manifest: "not an output
   * folder"). With `etag`, exactly that version (S3 If-Match), else an OutputChangedError.
   */
  read(file: string, etag?: string): Promise<Uint8Array>;
  /** A byte-range source over a file (that version, with `etag`), for reading a few KB of a large one; absent, `read` serves. */
  source?(file: string, etag?: string): Promise<ClosableSource>;
}

/** A byte source that may hold a handle (a local file's) to let go of. */
export type ClosableSource = ByteSource & { close?(): Promise<void> };

/** A file is no longer the version its manifest names: a newer publish is landing. */
export class OutputChangedError extends OutputFolderError {
  override name = 'OutputChangedError';
}

/** Reads of a folder that a publish is replacing, before giving up. */
const PINNED_ATTEMPTS = 6;

/** The files of a local output folder; a name that would leave the folder is refused before anything is opened. */
export function folderFiles(dir: string): OutputFiles {
  /** `open(path)` of a regular file of the folder, its failures said as the folder's. */
  const opened = async <T>(file: string, open: (path: string) => Promise<T>): Promise<T> => {
    if (!isFolderFileName(file)) throw outsideTheFolder(dir, file);
    const path = join(dir, file);
    try {
      // A folder or a FIFO in a file's place is refused, not waited on.
      if (!(await stat(path)).isFile()) throw new OutputFolderError(`${dir}: cannot read ${file}: not a regular file`);
      return await open(path);
    } catch (e: unknown) {
      if (e instanceof OutputFolderError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      throw missingOrUnreadable(dir, file, code === 'ENOENT' ? null : String(e));
    }
  };
  return {
    where: dir,
    read: (file) => opened(file, (path) => readFile(path)),
    source: (file) => opened(file, openFileSource),
  };
}

/** The error for a file of an output folder that is missing (`problem` null) or cannot be read. */
export function missingOrUnreadable(where: string, file: string, problem: string | null): OutputFolderError {
  if (problem === null && file === MANIFEST_FILE) return new OutputFolderError(`${where}: not an output folder (no ${MANIFEST_FILE})`);
  return new OutputFolderError(`${where}: cannot read ${file}: ${problem === null ? 'missing' : oneLine(problem, 300)}`);
}

/** The error for a file name that is not a file directly inside the folder (`../x`, `/etc/x`, `a\\b`). */
export function outsideTheFolder(where: string, file: string): OutputFolderError {
  return new OutputFolderError(`${where}: refusing to read ${shown(file)}: not a file name inside the folder`);
}

/** An output folder larger than the loader was allowed to load (the query function's limit). */
export class OutputTooLargeError extends OutputFolderError {
  override name = 'OutputTooLargeError';
}

/**
 * Checks a float32 C-order 2-D .npy as this tool writes it (numpy's own files in C order too)
 * from its first bytes (`head`: at least its header, or the whole file when shorter) and its
 * size: the magic, a version numpy writes, a header that fits the file and says `<f4`, C order
 * and two dimensions, and exactly rows × cols × 4 bytes of data after it. `where` names the file.
 * Returns the shape and where the data starts.
 */
export function npyLayout(head: Uint8Array, size: number, where: string): { rows: number; cols: number; start: number } {
  const fail = (problem: string): never => {
    throw new OutputFolderError(`${where}: ${problem}`);
  };
  if (size === 0) fail('empty, not an .npy file');
  const magic = String.fromCharCode(...head.subarray(1, 6));
  if (head[0] !== 0x93 || magic !== 'NUMPY') fail('not an .npy file (no \\x93NUMPY at its start)');
  if (size < 10) fail(`truncated: ${size} bytes, shorter than an .npy header`);
  const [major, minor] = [head[6]!, head[7]!];
  if (major < 1 || major > 3 || minor !== 0) fail(`.npy format version ${major}.${minor}, not one numpy writes (1.0, 2.0 or 3.0)`);
  const prefix = major === 1 ? 10 : 12;
  if (size < prefix) fail(`truncated: ${size} bytes, shorter than an .npy ${major}.0 header`);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = prefix + headerLength;
  if (start > size) fail(`truncated in its header: ${size} bytes, the header says it ends at byte ${start}`);
  if (start > head.byteLength) throw new RangeError(`npyLayout: given ${head.byteLength} bytes of a header of ${start}`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(head.subarray(prefix, start));
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)\b/.exec(header)?.[1];
  const shape = /'shape':\s*\(\s*(\d+)\s*,\s*(\d+)\s*,?\s*\)/.exec(header);
  if (descr !== '<f4' || fortran !== 'False' || !shape) fail(`expected a C-ordered float32 matrix, found the header ${oneLine(header)}`);
  const rows = Number(shape![1]);
  const cols = Number(shape![2]);
  const need = rows * cols * 4;
  const have = size - start;
  const matrix = `a ${rows.toLocaleString('en-US')} × ${cols.toLocaleString('en-US')} float32 matrix`;
  if (have < need) fail(`truncated: ${have.toLocaleString('en-US')} bytes of data, ${matrix} needs ${need.toLocaleString('en-US')}`);
  if (have > need) fail(`${(have - need).toLocaleString('en-US')} bytes more than ${matrix} (a damaged or different file)`);
  return { rows, cols, start };
}

/** Parses a whole .npy file's bytes (see `npyLayout`). */
export function parseNpy(bytes: Uint8Array, where: string): { rows: number; cols: number; data: Float32Array } {
  const { rows, cols, start } = npyLayout(bytes, bytes.byteLength, where);
  // A file read whole into its own buffer is used in place (numpy pads the header to 64 bytes: the data is aligned),
  // so a query holds the vectors once; else copied into a buffer of its own (a pooled Buffer's slice is a view).
  const own = bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength && start % 4 === 0;
  if (own) return { rows, cols, data: new Float32Array(bytes.buffer, start, rows * cols) };
  const data = new Float32Array(rows * cols);
  new Uint8Array(data.buffer).set(bytes.subarray(start, start + rows * cols * 4));
  return { rows, cols, data };
}

/** Runs `read` over a source, then closes it (a local file's handle). */
async function readAll<T>(source: ClosableSource, read: (s: ByteSource) => Promise<T>): Promise<T> {
  try {
    return await read(source);
  } finally {
    await source.close?.();
  }
}

/** Bytes a ranged read of the vectors asks for at once, and how many such reads are in flight. */
export const NPY_CHUNK = 64 << 20;
export const NPY_READS = 4;

/**
 * Reads a .npy through ranged reads straight into its matrix, so it may be larger than one
 * buffer holds (Node reads a file whole only up to 2 GiB; a 100M-row output's vectors are 5.6 GB)
 * and is held once.
 */
export async function readNpy(source: ByteSource, where: string): Promise<{ rows: number; cols: number; data: Float32Array }> {
  const { rows, cols, start } = await readNpyLayout(source, where);
  const data = new Float32Array(rows * cols);
  // Views of one chunk each: a Uint8Array over all of a 5.6 GB matrix is past V8's typed array length on Node 20.
  const total = data.byteLength;
  const chunks = Array.from({ length: Math.ceil(total / NPY_CHUNK) }, (_, i) => i * NPY_CHUNK);
  await mapLimit(chunks, NPY_READS, async (at) => {
    const n = Math.min(NPY_CHUNK, total - at);
    new Uint8Array(data.buffer, at, n).set(await source.read(start + at, n));
  });
  return { rows, cols, data };
}

/** The layout of the .npy at `source` from its header (one or two small reads), checked as `npyLayout` does. */
export async function readNpyLayout(source: ByteSource, where: string): Promise<{ rows: number; cols: number; start: number }> {
  const first = await source.read(0, Math.min(source.size, 12));
  let head = first;
  if (first.length >= 10 && first[0] === 0x93) {
    const view = new DataView(first.buffer, first.byteOffset, first.byteLength);
    const start = first[6] === 1 ? 10 + view.getUint16(8, true) : first.length >= 12 ? 12 + view.getUint32(8, true) : 0;
    if (start > first.length && start <= source.size) head = await source.read(0, start);
  }
  return npyLayout(head, source.size, where);
}

/** A file's text as JSON; one line naming the file when it is not JSON. */
function parseJson(bytes: Uint8Array, where: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e: unknown) {
    throw new OutputFolderError(`${where}: not valid JSON (${oneLine(e instanceof Error ? e.message : String(e))})`);
  }
}

/**
 * The id → row mapping, checked against the vectors: a JSON object of id → row, every row an
 * integer in [0, rows) named by one id at most, as many ids as `uniqueIds` when the manifest
 * counts them (else at most one per row), and the last row named (a repeated id keeps its last row).
 */
export function checkMapping(json: unknown, rows: number, uniqueIds: number | null, where: string): Pick<Embeddings, 'index' | 'ids'> {
  const fail = (problem: string): never => {
    throw new OutputFolderError(`${where}: ${problem}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(`expected a JSON object of id → row, found ${shown(json)}`);
  const index = new Map(Object.entries(json as Record<string, unknown>)) as Map<string, number>;
  const n = (x: number) => x.toLocaleString('en-US');
  if (uniqueIds !== null && index.size !== uniqueIds)
    fail(`${n(index.size)} ids for ${n(rows)} rows (the manifest counts ${n(uniqueIds)} distinct ids)`);
  if (index.size > rows) fail(`${n(index.size)} ids, more than the ${n(rows)} rows of the vectors`);
  const ids: (string | null)[] = new Array<string | null>(rows).fill(null);
  for (const [id, row] of index) {
    if (!Number.isInteger(row) || row < 0 || row >= rows) fail(`maps '${oneLine(id, 60)}' to ${shown(row)}, not a row of 0–${rows - 1}`);
    if (ids[row] !== null) fail(`maps both '${oneLine(ids[row]!, 60)}' and '${oneLine(id, 60)}' to row ${row}`);
    ids[row] = id;
  }
  if (rows > 0 && ids[rows - 1] === null) fail(`no id for the last row, ${rows - 1} (every id is at the row of its last occurrence)`);
  return { index, ids };
}

/**
 * Loads and checks an output folder. `maxRows`: a larger output is refused after reading only its
 * manifest, naming the limit (a query function's memory is sized for it).
 */
export async function loadEmbeddings(from: string | OutputFiles, opts: { maxRows?: number; limitNote?: string } = {}): Promise<Embeddings> {
  const files = typeof from === 'string' ? folderFiles(from) : from;
  // A published folder's manifest names its files' versions: a file that is no longer that
  // version means a newer publish is landing (files first, manifest last), so start over from
  // its manifest rather than pair one publish's vectors with another's ids.
  for (let attempt = 1; ; attempt++) {
    try {
      return await loadOnce(files, opts);
    } catch (e: unknown) {
      if (!(e instanceof OutputChangedError) || attempt >= PINNED_ATTEMPTS) throw e;
      await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
    }
  }
}

/**
 * Opens an output folder for search: the vectors, and the ids through `id_index.bin` when the
 * manifest names one (the mapping is then never read), else through the parsed mapping.
 */
export async function openOutputs(
  from: string | OutputFiles,
  opts: { maxRows?: number; limitNote?: string; holdIndexUpTo?: number } = {},
): Promise<SearchOutputs> {
  const files = typeof from === 'string' ? folderFiles(from) : from;
  return pinned(async () => {
    const head = await loadVectors(files, opts);
    // A folder written before the id index: its ids through the parsed mapping (the vectors are not read again).
    if (head.manifest.outputs.idIndex === undefined) return await withMapping(files, head);
    const lookup = await openIndexLookup(files, head, opts.holdIndexUpTo ?? 0);
    return { dir: files.where, manifest: head.manifest, rows: head.rows, dims: head.dims, vectors: head.vectors, lookup };
  });
}

/**
 * Runs `open` again from the manifest while a file is no longer the version the manifest names
 * (a newer publish is landing: files first, manifest last), a few times with backoff.
 */
export async function pinned<T>(open: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await open();
    } catch (e: unknown) {
      if (!(e instanceof OutputChangedError) || attempt >= PINNED_ATTEMPTS) throw e;
      await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
    }
  }
}

/**
 * Looks ids up through the folder's `id_index.bin` (the manifest names it): up to `holdUpTo`
 * bytes it is read whole and looked up in memory (a warm query function then reads nothing),
 * a larger one a few KB per lookup.
 */
export async function openIndexLookup(
  files: OutputFiles,
  head: Pick<FolderManifest, 'manifest' | 'rows' | 'etagOf'>,
  holdUpTo: number,
): Promise<IdLookup> {
  const indexFile = head.manifest.outputs.idIndex!;
  const etag = head.etagOf(indexFile);
  const where = fileIn(files.where, indexFile);
  const source: ClosableSource = files.source
    ? await files.source(indexFile, etag)
    : await files
        .read(indexFile, etag)
        .then((b) => ({ name: where, size: b.length, read: async (o: number, n: number) => b.subarray(o, o + n) }));
  const held = source.size <= holdUpTo ? await source.read(0, source.size) : null;
  if (held) await source.close?.();
  const named = held
    ? { name: where, size: held.length, read: async (o: number, n: number) => held.subarray(o, o + n) }
    : { name: where, size: source.size, read: (o: number, n: number) => source.read(o, n) };
  return openIdIndex(named, head.rows, head.manifest.outputs.repeatedIds);
}

/** A folder's manifest, checked: its rows and columns, and the ETag it names for each file. */
export interface FolderManifest {
  manifest: Manifest;
  rows: number;
  cols: number;
  etagOf: (file: string) => string | undefined;
}

/** The folder's manifest, checked, with the ETag it names for each file; a folder of more than `maxRows` rows is refused. */
export async function readFolderManifest(files: OutputFiles, opts: { maxRows?: number; limitNote?: string } = {}): Promise<FolderManifest> {
  const dir = files.where;
  const manifest = checkManifest(parseJson(await files.read(MANIFEST_FILE), fileIn(dir, MANIFEST_FILE)), fileIn(dir, MANIFEST_FILE));
  const [rows, cols] = manifest.outputs.shape;
  if (opts.maxRows !== undefined && rows > opts.maxRows)
    throw new OutputTooLargeError(
      `${dir}: ${rows.toLocaleString('en-US')} rows, more than the ${opts.maxRows.toLocaleString('en-US')} this loader serves${opts.limitNote ? ` (${opts.limitNote})` : ''}`,
    );
  const etags = manifest.outputs.etags ?? {};
  const etagOf = (file: string) => (Object.hasOwn(etags, file) ? etags[file] : undefined);
  return { manifest, rows, cols, etagOf };
}

/** Refuses vectors whose shape is not the manifest's, or whose columns are not its spec's features. */
export function checkVectorsShape(dir: string, manifest: Manifest, npy: { rows: number; cols: number }): void {
  const { vectors } = manifest.outputs;
  const [rows, cols] = manifest.outputs.shape;
  if (npy.rows !== rows || npy.cols !== cols)
    throw new OutputFolderError(`${fileIn(dir, vectors)}: the vectors are ${npy.rows} × ${npy.cols}, the manifest says ${rows} × ${cols}`);
  if (npy.cols !== manifest.dims)
    throw new OutputFolderError(
      `${fileIn(dir, vectors)}: the vectors have ${npy.cols} columns, the manifest's spec ${manifest.dims} features (${fileIn(dir, MANIFEST_FILE)})`,
    );
}

/** The manifest and the vectors, checked against each other. */
async function loadVectors(files: OutputFiles, opts: { maxRows?: number; limitNote?: string }) {
  const dir = files.where;
  const { manifest, rows, etagOf } = await readFolderManifest(files, opts);
  const { vectors } = manifest.outputs;
  const npy = files.source
    ? await readAll(await files.source(vectors, etagOf(vectors)), (src) => readNpy(src, fileIn(dir, vectors)))
    : parseNpy(await files.read(vectors, etagOf(vectors)), fileIn(dir, vectors));
  checkVectorsShape(dir, manifest, npy);
  return { manifest, rows, dims: npy.cols, vectors: npy.data, etagOf };
}

async function loadOnce(files: OutputFiles, opts: { maxRows?: number; limitNote?: string }): Promise<Embeddings> {
  return withMapping(files, await loadVectors(files, opts));
}

/** The loaded vectors with the folder's mapping, parsed and checked against them. */
async function withMapping(files: OutputFiles, head: Awaited<ReturnType<typeof loadVectors>>): Promise<Embeddings> {
  const dir = files.where;
  const { manifest, rows, dims, vectors, etagOf } = head;
  const { mapping } = manifest.outputs;
  const { index, ids } = checkMapping(
    parseJson(await files.read(mapping, etagOf(mapping)), fileIn(dir, mapping)),
    rows,
    manifest.outputs.uniqueIds,
    fileIn(dir, mapping),
  );
  return { dir, manifest, rows, dims, vectors, index, ids, lookup: mapLookup(index, ids) };
}
