/**
 * Opens an output folder for exploring: the vectors and mapping (checked as every reader checks
 * them), the map (cached beside them), and the input's names, artists and years when the input
 * named in the manifest (or given) is at hand.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadEmbeddings } from '../search/embeddings.ts';
import { MANIFEST_FILE } from '../outputs/file-names.ts';
import type { FileSource } from '../io/file-source.ts';
import { loadOrComputeMap, PCA_CACHE_FILE, type MapSource } from './pca-cache.ts';
import { openInput, readTrackText } from './input-table.ts';
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

/** Opens `dir` (a local output folder); `input` overrides the manifest's input path. */
export async function openExplorer(dir: string, opts: { input?: string; mapLimit?: number } = {}): Promise<OpenedExplorer> {
  const limit = opts.mapLimit ?? MAP_LIMIT;
  const e = await loadEmbeddings(dir);
  const manifestBytes = await readFile(join(dir, MANIFEST_FILE));
  const { map, source } = await loadOrComputeMap(dir, e.vectors, e.dims, manifestBytes, limit);
  const notes = [mapNote(source, e.rows, limit)];
  const opened = await openInput(e.manifest, opts.input);
  let input: FileSource | null = null;
  let note: string | undefined;
  if ('source' in opened) input = opened.source;
  else {
    note = `names, artists and years not shown: ${opened.note}`;
    notes.push(`note: ${note}`);
  }
  const text = input ? await readTrackText(input, e.rows) : null;
  return { explorer: createExplorer(e, map, text, input, note), notes, close: async () => void (await input?.close()) };
}
