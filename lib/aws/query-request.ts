/**
 * The query function's request schema, checked before anything is loaded: size, shape, field
 * names, types and lengths. A refusal says what the request should be and never repeats what
 * was sent (an unknown field's name, a 10 KB id, a huge value): the caller has its own request.
 */
import { QueryError, MAX_K, METRICS } from '../search/query.ts';

/** Bytes of request body the function reads at most (a Function URL allows 6 MB). */
export const MAX_BODY_BYTES = 64 * 1024;
/** The longest track id a request may name (ids are 22 characters in the reference data). */
export const MAX_ID_LENGTH = 256;
/** The longest output name (a file name under incoming/ without .parquet). */
export const MAX_NAME_LENGTH = 255;
/** Feature fields a request may give at most. */
export const MAX_FEATURES = 64;

const FIELDS = ['name', 'id', 'ids', 'features', 'k', 'metric'];
const SHAPE = `{"name": …, "id": … | "ids": […] | "features": {…}, "k": 1–${MAX_K}, "metric": ${METRICS.join(' | ')}}`;

const bad = (message: string): never => {
  throw new QueryError(400, message);
};

/** Checks the parsed body against the schema (the search's own parser then reads it). */
export function checkRequest(body: unknown): void {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) bad(`the request must be a JSON object: ${SHAPE}`);
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((key) => !FIELDS.includes(key)).length;
  if (unknown > 0) bad(`${unknown} unknown field${unknown > 1 ? 's' : ''}: the request takes ${FIELDS.join(', ')}`);
  if (typeof b.name !== 'string' || b.name.length > MAX_NAME_LENGTH)
    bad(`'name' must be an output name of at most ${MAX_NAME_LENGTH} characters`);
  if (b.id !== undefined && (typeof b.id !== 'string' || b.id.length > MAX_ID_LENGTH))
    bad(`'id' must be a track id of at most ${MAX_ID_LENGTH} characters`);
  if (b.ids !== undefined) {
    if (!Array.isArray(b.ids) || b.ids.length > MAX_K) bad(`'ids' must be a list of 1 to ${MAX_K} track ids`);
    if (!(b.ids as unknown[]).every((x) => typeof x === 'string' && x.length <= MAX_ID_LENGTH))
      bad(`'ids' must hold track ids of at most ${MAX_ID_LENGTH} characters`);
  }
  if (b.k !== undefined && typeof b.k !== 'number') bad(`'k' must be an integer from 1 to ${MAX_K}`);
  if (b.metric !== undefined && typeof b.metric !== 'string') bad(`'metric' must be one of ${METRICS.join(', ')}`);
  if (b.features !== undefined) {
    const f = b.features;
    if (f === null || typeof f !== 'object' || Array.isArray(f)) bad(`'features' must be an object of column → value`);
    const entries = Object.entries(f as Record<string, unknown>);
    if (entries.length > MAX_FEATURES) bad(`'features' must have at most ${MAX_FEATURES} fields`);
    for (const [column, v] of entries) {
      if (v !== null && typeof v !== 'number' && typeof v !== 'boolean')
        bad(
          `'features': every value must be a number, a boolean or null${column.length <= 64 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(column) ? ` ('${column}' is not)` : ''}`,
        );
    }
  }
}

/** The features' column names that `columns` (the output's spec) does not have: how many, not which. */
export function unknownFeatures(features: Record<string, unknown>, columns: readonly string[]): number {
  return Object.keys(features).filter((c) => !columns.includes(c)).length;
}

/** Refuses a query vector that float32 cannot hold (a feature of 1e300 standardises past 3.4e38). */
export function checkVector(vector: Float64Array): void {
  const F32_MAX = 3.4028234663852886e38;
  for (const v of vector)
    if (!(Math.abs(v) <= F32_MAX) && !Number.isNaN(v))
      bad("'features': a value is so far from the data that its embedding overflows float32; give values in the data's range");
}
