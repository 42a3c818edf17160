/**
 * What the explore page asks of an output folder, answered over the loaded embeddings: the
 * summary, type-ahead search, one track's features, the nearest tracks to one or several seeds
 * (their mean, as `similar --id A --id B`), and the map's points and colours. Plain data in and
 * out; lib/explore/server.ts puts it on HTTP.
 */
import { basename } from 'node:path';
import type { Embeddings } from '../search/embeddings.ts';
import { meanOf, nearest, type Metric } from '../search/nearest.ts';
import { MAX_K, METRICS } from '../search/query.ts';
import { readRows } from '../search/join-columns.ts';
import type { ByteSource } from '../io/byte-source.ts';
import { PipelineError } from '../errors.ts';
import { readNumericColumn, type TrackText } from './input-table.ts';
import { buildSearchIndex, searchTracks, type SearchIndex } from './track-search.ts';
import type { PcaMap } from './pca-cache.ts';

/** A request the page made that cannot be answered; `status` is the HTTP status. */
export class ExploreRequestError extends PipelineError {
  override name = 'ExploreRequestError';
  constructor(
    readonly status: 400 | 404,
    message: string,
  ) {
    super(message);
  }
}

/** A track as the page lists it. */
export interface TrackSummary {
  row: number;
  id: string;
  name: string;
  artists: string;
  year: number | null;
}

/** A neighbour: its rank, the track, its distance from the query. */
export interface NeighbourRow extends TrackSummary {
  rank: number;
  distance: number;
}

export interface Explorer {
  readonly embeddings: Embeddings;
  readonly map: PcaMap;
  info(): Record<string, unknown>;
  search(query: string, limit: number): TrackSummary[];
  /** One track; with `withFeatures`, its input values too (read from the input: a row group decoded). */
  track(row: number, withFeatures?: boolean): Promise<TrackSummary & { vector: (number | null)[]; features: Record<string, unknown> }>;
  neighbours(seeds: readonly number[], k: number, metric: Metric): { neighbours: NeighbourRow[]; ms: number };
  /** The values of a colour column at the map's rows (an embedding dimension `dim:N`, or an input column). */
  column(name: string): Promise<Float32Array>;
}

/** The explorer over loaded embeddings, their map, and the input's text (null when the input is not at hand). */
export function createExplorer(e: Embeddings, map: PcaMap, text: TrackText | null, input: ByteSource | null, note?: string): Explorer {
  const index: SearchIndex = buildSearchIndex(text?.names ?? e.ids.map(() => ''), text?.artists ?? e.ids.map(() => ''));
  const features = e.manifest.spec.features.map((f) => f.column);
  const summary = (row: number): TrackSummary => {
    const year = text?.years[row];
    return {
      row,
      id: e.ids[row] ?? `#${row}`,
      name: text?.names[row] ?? '',
      artists: text?.artists[row] ?? '',
      year: year === undefined || Number.isNaN(year) ? null : year,
    };
  };
  const checkRow = (row: number) => {
    if (!Number.isInteger(row) || row < 0 || row >= e.rows) throw new ExploreRequestError(404, `no row ${row} (the folder has ${e.rows})`);
  };
  const columns = new Map<string, Promise<Float32Array>>();
  return {
    embeddings: e,
    map,
    info: () => ({
      rows: e.rows,
      dims: e.dims,
      input: basename(e.manifest.input.name),
      features,
      mapRows: map.rows.length,
      sampled: map.rows.length < e.rows,
      variances: map.pca.variances,
      totalVariance: map.pca.eigenvalues.reduce((a, b) => a + b, 0),
      components: [Array.from(map.pca.components.subarray(0, e.dims)), Array.from(map.pca.components.subarray(e.dims, 2 * e.dims))],
      hasText: text !== null,
      note: note ?? null,
      colours: [...(text ? text.numericColumns : []), ...features.map((f, d) => `dim:${d}:${f}`)],
      metrics: METRICS,
      maxK: MAX_K,
    }),
    search: (query, limit) => searchTracks(index, e.index, query, limit).map(summary),
    async track(row, withFeatures = true) {
      checkRow(row);
      const vector = Array.from(e.vectors.subarray(row * e.dims, (row + 1) * e.dims), (v) => (Number.isNaN(v) ? null : v));
      const raw = input && withFeatures ? ((await readRows(input, [...new Set(features)], [row])).get(row) ?? {}) : {};
      return { ...summary(row), vector, features: raw };
    },
    neighbours(seeds, k, metric) {
      if (seeds.length === 0) throw new ExploreRequestError(400, 'no seed track');
      seeds.forEach(checkRow);
      if (!Number.isInteger(k) || k < 1 || k > MAX_K) throw new ExploreRequestError(400, `k must be an integer from 1 to ${MAX_K}`);
      if (!METRICS.includes(metric)) throw new ExploreRequestError(400, `metric must be one of ${METRICS.join(', ')}`);
      const started = performance.now();
      const found = nearest(e.vectors, e.dims, meanOf(e.vectors, e.dims, seeds), k, metric, new Set(seeds));
      const ms = performance.now() - started;
      return { neighbours: found.map((n, i) => ({ ...summary(n.row), rank: i + 1, distance: n.distance })), ms };
    },
    column(name) {
      const dim = /^dim:(\d+)(?::|$)/.exec(name);
      let got = columns.get(name);
      if (got) return got;
      if (dim) {
        const d = Number(dim[1]);
        if (d >= e.dims) throw new ExploreRequestError(404, `no dimension ${d} (the vectors have ${e.dims})`);
        const out = new Float32Array(map.rows.length);
        map.rows.forEach((r, i) => (out[i] = e.vectors[r * e.dims + d]!));
        got = Promise.resolve(out);
      } else {
        if (!input || !text?.numericColumns.includes(name)) throw new ExploreRequestError(404, `no numeric column '${name}' in the input`);
        got = readNumericColumn(input, name, map.rows);
      }
      columns.set(name, got);
      got.catch(() => columns.delete(name));
      return got;
    },
  };
}
