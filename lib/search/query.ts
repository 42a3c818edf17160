/**
 * One similarity query over loaded embeddings, as the query function answers it: a request
 * (`{"name", "id" | "ids" | "features", "k", "metric"}`) checked field by field, and the neighbours
 * ranked. The command line's `similar` searches the same way.
 */
import type { SearchOutputs } from './embeddings.ts';
import { meanOf, nearest, type Metric, type Neighbour } from './nearest.ts';
import { embedFeatures } from './features.ts';
import { parseSpec } from '../embedding/spec.ts';
import { scalerFromSection } from '../outputs/manifest.ts';
import { PipelineError } from '../errors.ts';

export const METRICS: readonly Metric[] = ['euclidean', 'cosine'];
/** Most neighbours one query returns. */
export const MAX_K = 1000;

/** A request the query function refuses; `status` is the HTTP status it answers with. */
export class QueryError extends PipelineError {
  override name = 'QueryError';
  constructor(
    readonly status: 400 | 404 | 413,
    message: string,
  ) {
    super(message);
  }
}

/** A checked request: exactly one of `ids` (one id, or a playlist's seeds) and `features`. */
export interface Query {
  name: string;
  ids?: string[];
  features?: Record<string, unknown>;
  k: number;
  metric: Metric;
}

/** A neighbour as shown: rank, id (`#row` for a row whose id repeats later), row, distance. */
export interface RankedNeighbour {
  rank: number;
  id: string;
  row: number;
  distance: number;
}

/** An output name (the uploaded file's name without .parquet): one path segment under the output prefix. */
const isName = (v: unknown): v is string =>
  typeof v === 'string' && v !== '' && v !== '.' && v !== '..' && v.length <= 1024 && !v.includes('/') && ![...v].some((c) => c < ' ');

/** Checks a request body (already parsed JSON); every refusal names the field. */
export function parseQuery(body: unknown): Query {
  const bad = (message: string): never => {
    throw new QueryError(400, message);
  };
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    bad('the request must be a JSON object: {"name": …, "id": … | "ids": […] | "features": {…}, "k": 10}');
  const b = body as Record<string, unknown>;
  const known = new Set(['name', 'id', 'ids', 'features', 'k', 'metric']);
  const unknown = Object.keys(b).filter((key) => !known.has(key));
  if (unknown.length > 0) bad(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `'${u}'`).join(', ')}`);
  if (!isName(b.name)) bad(`'name' must be an output name (the uploaded file's name without .parquet)`);
  const given = ['id', 'ids', 'features'].filter((key) => b[key] !== undefined);
  if (given.length !== 1) bad(`give exactly one of 'id', 'ids' and 'features'${given.length ? ` (got ${given.join(', ')})` : ''}`);
  const k = b.k ?? 10;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > MAX_K) bad(`'k' must be an integer from 1 to ${MAX_K}`);
  const metric = b.metric ?? 'euclidean';
  if (!METRICS.includes(metric as Metric)) bad(`'metric' must be one of ${METRICS.join(', ')}`);
  const query: Query = { name: b.name as string, k: k as number, metric: metric as Metric };
  if (b.id !== undefined) {
    if (typeof b.id !== 'string' || b.id === '') bad(`'id' must be a track id (a non-empty string)`);
    query.ids = [b.id as string];
  } else if (b.ids !== undefined) {
    const ids = b.ids;
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_K || !ids.every((x) => typeof x === 'string' && x !== ''))
      bad(`'ids' must be a list of 1 to ${MAX_K} track ids`);
    query.ids = ids as string[];
  } else {
    const f = b.features;
    if (f === null || typeof f !== 'object' || Array.isArray(f)) bad(`'features' must be an object of column → value`);
    query.features = f as Record<string, unknown>;
  }
  return query;
}

/** An output as a query reads it besides its vectors: the spec and scaler, and its ids. */
type Outputs = Pick<SearchOutputs, 'manifest' | 'lookup'>;

/** How a query reaches the vectors: held in memory, or read as it scans (streamed-outputs.ts). */
export interface VectorSearch {
  /** Some rows' vectors, packed in the order given. */
  rowsOf(rows: readonly number[]): Promise<Float32Array>;
  nearest(query: Float64Array, k: number, metric: Metric, exclude: ReadonlySet<number>): Promise<Neighbour[]>;
}

/** The search over vectors held in memory. */
export const heldSearch = (e: SearchOutputs): VectorSearch => ({
  rowsOf: async (rows) => {
    const packed = new Float32Array(rows.length * e.dims);
    rows.forEach((row, i) => packed.set(e.vectors.subarray(row * e.dims, (row + 1) * e.dims), i * e.dims));
    return packed;
  },
  nearest: async (v, k, metric, exclude) => nearest(e.vectors, e.dims, v, k, metric, exclude),
});

/** The mean of some rows' vectors (see `meanOf`), read through `search`. */
export async function meanOfRows(search: VectorSearch, dims: number, rows: readonly number[]): Promise<Float64Array> {
  return meanOf(await search.rowsOf(rows), dims, [...rows.keys()]);
}

/** The neighbours as shown. */
export async function ranked(e: Pick<SearchOutputs, 'lookup'>, found: readonly Neighbour[]): Promise<RankedNeighbour[]> {
  const ids = await Promise.all(found.map((n) => e.lookup.idOf(n.row)));
  return found.map((n, i) => ({ rank: i + 1, id: ids[i] ?? `#${n.row}`, row: n.row, distance: n.distance }));
}

/** The rows of the seed ids; an unknown id is refused by `unknownId(id)`. */
export async function seedRows(
  e: Pick<SearchOutputs, 'lookup'>,
  ids: readonly string[],
  unknownId: (id: string) => Error,
): Promise<number[]> {
  const rows = await Promise.all(ids.map((id) => e.lookup.rowOf(id)));
  return rows.map((row, i) => {
    if (row === undefined) throw unknownId(ids[i]!);
    return row;
  });
}

/** The embedding of a track given by its features, with the output's spec and fitted scaler. */
export function featuresVector(e: Pick<SearchOutputs, 'manifest'>, features: Record<string, unknown>, label: string): Float64Array {
  return embedFeatures(features, parseSpec(e.manifest.spec, 'manifest.json'), scalerFromSection(e.manifest.scaler), label);
}

/** Answers a checked query over vectors held in memory: the k nearest rows, the seeds themselves left out. */
export async function answerQuery(e: SearchOutputs, q: Query): Promise<RankedNeighbour[]> {
  return answerWith(e, heldSearch(e), q);
}

/** Answers a checked query through `search`: the k nearest rows, the seeds themselves left out. */
export async function answerWith(e: Outputs, search: VectorSearch, q: Query): Promise<RankedNeighbour[]> {
  const seeds = q.ids ? await seedRows(e, q.ids, (id) => new QueryError(404, `'${q.name}' has no track with id '${id}'`)) : [];
  const vector = q.features ? requestedFeatures(e, q.features) : await meanOfRows(search, e.manifest.dims, seeds);
  return ranked(e, await search.nearest(vector, q.k, q.metric, new Set(seeds)));
}

/** The features' vector; a feature the spec refuses is the request's fault (400). */
function requestedFeatures(e: Outputs, features: Record<string, unknown>): Float64Array {
  try {
    return featuresVector(e, features, 'features');
  } catch (err: unknown) {
    if (err instanceof PipelineError && !(err instanceof QueryError)) throw new QueryError(400, err.message);
    throw err;
  }
}
