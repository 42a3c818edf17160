/**
 * Opens an output folder for exploring: the vectors and mapping (checked as every reader checks
 * them), the map (cached beside them), and the input's names, artists and years when the input
 * named in the manifest (or given) is at hand.
 */
import { folderFiles, loadEmbeddings, type OutputFiles } from '../search/embeddings.ts';
import { MANIFEST_FILE } from '../outputs/file-names.ts';
import type { Manifest } from '../outputs/manifest.ts';
import { computeMap, loadOrComputeMap, PCA_CACHE_FILE, type MapSource } from './pca-cache.ts';
import { openInput, readTrackText, type InputSource } from './input-table.ts';
import { createExplorer, type Explorer } from './explorer.ts';

/** Rows drawn on the map at most; a larger folder draws an even sample and still searches every row. */
export const MAP_LIMIT = 250_000;

export interface OpenedExplorer {
  explorer: Explorer;
  /** Lines for stderr: where the map came from, what cannot be shown. */
  notes: string[];
  close(): Promise<void>;
}

const mapNote = (s: MapSource, rows: number, limit: number): string => {
  const what = rows > limit ? `map of ${limit.toLocaleString('en-US')} of ${rows.toLocaleString('en-US')} rows` : 'map';
  if (s.from === 'cache') return `${what}: read from ${PCA_CACHE_FILE}`;
  if (s.cached) return `${what}: projected and cached in ${PCA_CACHE_FILE}${s.replaced ? ` (the old one: ${s.replaced})` : ''}`;
  return `${what}: projected; not cached (cannot write ${PCA_CACHE_FILE}: ${s.why})`;
};

export interface ExploreOptions {
  /** The input Parquet (a local path), instead of the one the manifest names. */
  input?: string;
  mapLimit?: number;
  /**
   * Opens the input the manifest names, for a folder that is not local (S3: pinned to the
   * recorded ETag); by default a local path, checked by size.
   */
  openInput?: (manifest: Manifest) => Promise<{ source: InputSource } | { note: string }>;
}

/**
 * Opens an output folder: a local path (the map cached in it), or the files of one elsewhere
 * (an S3 prefix: the map is projected at each start, nothing is written there).
 */
export async function openExplorer(from: string | OutputFiles, opts: ExploreOptions = {}): Promise<OpenedExplorer> {
  const limit = opts.mapLimit ?? MAP_LIMIT;
  const files = typeof from === 'string' ? folderFiles(from) : from;
  const e = await loadEmbeddings(files);
  let map, source: MapSource;
  if (typeof from === 'string') ({ map, source } = await loadOrComputeMap(from, e.vectors, e.dims, await files.read(MANIFEST_FILE), limit));
  else [map, source] = [computeMap(e.vectors, e.dims, limit), { from: 'computed', cached: false, why: 'not a local folder' } as MapSource];
  const notes = [mapNote(source, e.rows, limit)];
  const opened = opts.input !== undefined || !opts.openInput ? await openInput(e.manifest, opts.input) : await opts.openInput(e.manifest);
  let input: InputSource | null = null;
  let note: string | undefined;
  if ('source' in opened) input = opened.source;
  else {
    note = `names, artists and years not shown: ${opened.note}`;
    notes.push(`note: ${note}`);
  }
  const text = input ? await readTrackText(input, e.rows) : null;
  return { explorer: createExplorer(e, map, text, input, note), notes, close: async () => void (await input?.close()) };
}
