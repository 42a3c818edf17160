/** lib/embedding/: the embedding itself, pure. This file: the feature spec (columns, standardisation, weights) and its checks. */
import { SpecError } from '../errors.ts';

/** One output dimension: a column, whether it is standardised, and an optional float32 weight. */
export interface Feature {
  column: string;
  standardize: boolean;
  weight?: number;
}

/** What to embed: the id column and the features, one output dimension each, in order. */
export interface FeatureSpec {
  name: string;
  id: string;
  features: Feature[];
}

const weighted = (column: string, weight: number): Feature => ({ column, standardize: true, weight });
const raw = (column: string): Feature => ({ column, standardize: false });

/** The notebook's 14 dimensions: 10 weighted standardised audio features, key/mode/explicit raw, year standardised. */
export const DEFAULT_SPEC: FeatureSpec = {
  name: 'notebook-14d',
  id: 'id',
  features: [
    weighted('danceability', 1.2),
    weighted('energy', 1.2),
    weighted('valence', 1.0),
    weighted('tempo', 1.0),
    weighted('acousticness', 0.8),
    weighted('instrumentalness', 0.8),
    weighted('liveness', 0.7),
    weighted('speechiness', 0.6),
    weighted('loudness', 0.5),
    weighted('popularity', 1.0),
    raw('key'),
    raw('mode'),
    raw('explicit'),
    { column: 'year', standardize: true },
  ],
};

/** Columns whose mean and scale must be computed, each once, in first-use order. */
export function standardizedColumns(spec: FeatureSpec): string[] {
  return [...new Set(spec.features.filter((f) => f.standardize).map((f) => f.column))];
}

/** Every column the spec reads (features, then the id), each once. */
export function requiredColumns(spec: FeatureSpec): string[] {
  return [...new Set([...spec.features.map((f) => f.column), spec.id])];
}

/** Name of the matrix file for a spec of `dims` dimensions (the notebook's name at 14). */
export function vectorsFileName(dims: number): string {
  return `spotify_vectors_${dims}d.npy`;
}

/** Validates a parsed JSON spec; every problem is named with its path in the document. */
export function parseSpec(json: unknown, origin = 'spec'): FeatureSpec {
  const fail = (msg: string): never => {
    throw new SpecError(`${origin}: ${msg}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('expected a JSON object');
  const o = json as Record<string, unknown>;
  const id = o.id ?? 'id';
  if (typeof id !== 'string' || id === '') fail("'id' must be a non-empty column name");
  if (!Array.isArray(o.features) || o.features.length === 0) fail("'features' must be a non-empty array");
  const features = (o.features as unknown[]).map((f, i): Feature => {
    const at = `features[${i}]`;
    if (typeof f !== 'object' || f === null) return fail(`${at} must be an object`);
    const { column, standardize, weight, ...rest } = f as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length > 0) fail(`${at} has unknown key(s) ${unknown.join(', ')} (allowed: column, standardize, weight)`);
    if (typeof column !== 'string' || column === '') fail(`${at}.column must be a non-empty string`);
    if (standardize !== undefined && typeof standardize !== 'boolean') fail(`${at}.standardize must be true or false`);
    if (weight !== undefined && (typeof weight !== 'number' || !Number.isFinite(weight))) {
      fail(`${at}.weight must be a finite number`);
    }
    const out: Feature = { column: column as string, standardize: standardize === true };
    if (weight !== undefined) out.weight = weight as number;
    return out;
  });
  if (features.some((f) => f.column === id)) fail(`the id column '${id as string}' cannot also be a feature`);
  const name = typeof o.name === 'string' && o.name !== '' ? o.name : `custom-${features.length}d`;
  return { name, id: id as string, features };
}
