/**
 * A published output folder, loaded for search: the vectors (.npy), the id → row mapping and the
 * manifest, checked against each other. Refusals name the folder and the problem in one line.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PipelineError } from '../errors.ts';
import { MANIFEST_FILE, MAPPING_FILE } from '../outputs/file-names.ts';
import type { Manifest } from '../outputs/manifest.ts';

/** An output folder that cannot be searched: not one, incomplete, or inconsistent. */
export class OutputFolderError extends PipelineError {
  override name = 'OutputFolderError';
}

export interface Embeddings {
  dir: string;
  manifest: Manifest;
  rows: number;
  dims: number;
  /** Row-major, rows × dims. */
  vectors: Float32Array;
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
}

/** A file is no longer the version its manifest names: a newer publish is landing. */
export class OutputChangedError extends OutputFolderError {
  override name = 'OutputChangedError';
}

/** Reads of a folder that a publish is replacing, before giving up. */
const PINNED_ATTEMPTS = 6;

/** The files of a local output folder. */
export function folderFiles(dir: string): OutputFiles {
  return {
    where: dir,
    async read(file) {
      try {
        return await readFile(join(dir, file));
      } catch (e: unknown) {
        const code = (e as NodeJS.ErrnoException).code;
        throw missingOrUnreadable(dir, file, code === 'ENOENT' ? null : String(e));
      }
    },
  };
}

/** The error for a file of an output folder that is missing (`problem` null) or cannot be read. */
export function missingOrUnreadable(where: string, file: string, problem: string | null): OutputFolderError {
  if (problem === null && file === MANIFEST_FILE) return new OutputFolderError(`${where}: not an output folder (no ${MANIFEST_FILE})`);
  return new OutputFolderError(`${where}: cannot read ${file}: ${problem ?? 'missing'}`);
}

/** An output folder larger than the loader was allowed to load (the query function's limit). */
export class OutputTooLargeError extends OutputFolderError {
  override name = 'OutputTooLargeError';
}

/** Parses a float32 C-order 2-D .npy as this tool writes it (numpy's own files in C order too). */
export function parseNpy(bytes: Uint8Array, where: string): { rows: number; cols: number; data: Float32Array } {
  const magic = String.fromCharCode(...bytes.subarray(1, 6));
  if (bytes[0] !== 0x93 || magic !== 'NUMPY') throw new OutputFolderError(`${where}: not an .npy file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = (major === 1 ? 10 : 12) + headerLength;
  const header = new TextDecoder('latin1').decode(bytes.subarray(major === 1 ? 10 : 12, start));
  const shape = /'shape': \((\d+), (\d+)\)/.exec(header);
  if (!header.includes("'descr': '<f4'") || !shape || header.includes("'fortran_order': True"))
    throw new OutputFolderError(`${where}: expected a C-ordered float32 matrix, found ${header.trim()}`);
  const rows = Number(shape[1]);
  const cols = Number(shape[2]);
  if (bytes.byteLength - start < rows * cols * 4) throw new OutputFolderError(`${where}: truncated (${rows} × ${cols} float32 expected)`);
  // Copied into a buffer of its own (aligned, and exactly the data: a Node Buffer's slice is a view).
  const data = new Float32Array(rows * cols);
  new Uint8Array(data.buffer).set(bytes.subarray(start, start + rows * cols * 4));
  return { rows, cols, data };
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

async function loadOnce(files: OutputFiles, opts: { maxRows?: number; limitNote?: string }): Promise<Embeddings> {
  const dir = files.where;
  const text = async (file: string, etag?: string) => new TextDecoder().decode(await files.read(file, etag));
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await text(MANIFEST_FILE)) as Manifest;
  } catch (e: unknown) {
    if (e instanceof OutputFolderError) throw e;
    throw new OutputFolderError(`${dir}: ${MANIFEST_FILE} is not valid JSON`);
  }
  if (!manifest.outputs?.vectors || !Array.isArray(manifest.outputs.shape))
    throw new OutputFolderError(`${dir}: ${MANIFEST_FILE} is not a track-embeddings manifest`);
  const [rows, dims] = manifest.outputs.shape as [number, number];
  if (opts.maxRows !== undefined && rows > opts.maxRows)
    throw new OutputTooLargeError(
      `${dir}: ${rows.toLocaleString('en-US')} rows, more than the ${opts.maxRows.toLocaleString('en-US')} this loader serves${opts.limitNote ? ` (${opts.limitNote})` : ''}`,
    );
  const etags = manifest.outputs.etags ?? {};
  const npy = parseNpy(
    await files.read(manifest.outputs.vectors, etags[manifest.outputs.vectors]),
    `${dir.replace(/\/$/, '')}/${manifest.outputs.vectors}`,
  );
  if (npy.rows !== rows || npy.cols !== dims)
    throw new OutputFolderError(`${dir}: the vectors are ${npy.rows} × ${npy.cols}, the manifest says ${rows} × ${dims}`);
  const mapping = JSON.parse(await text(MAPPING_FILE, etags[MAPPING_FILE])) as Record<string, number>;
  const index = new Map(Object.entries(mapping));
  const ids: (string | null)[] = new Array(rows).fill(null);
  for (const [id, row] of index) {
    if (!Number.isInteger(row) || row < 0 || row >= rows)
      throw new OutputFolderError(`${dir}: ${MAPPING_FILE} maps '${id}' to row ${row}, outside 0–${rows - 1}`);
    ids[row] = id;
  }
  return { dir, manifest, rows, dims, vectors: npy.data, index, ids };
}
