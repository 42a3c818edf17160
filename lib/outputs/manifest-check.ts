/**
 * lib/outputs/: the published files. This file: the checks every reader makes of a manifest before
 * trusting it (search, the query function, `transform`'s fitted scaler): its version and fields,
 * file names that stay inside the folder, the spec, and a scaler that fits the spec by name.
 * A refusal is one OutputFolderError: which file, which field, what was expected, what was found.
 */
import { PipelineError, SpecError } from '../errors.ts';
import { parseSpec, standardizedColumns, type FeatureSpec } from '../embedding/spec.ts';
import type { MatrixDtype } from '../embedding/dtypes.ts';
import type { Scaler } from '../embedding/stats.ts';
import { scalerFromSection, type Manifest } from './manifest.ts';

/** An output folder (or a manifest of one) that cannot be used: not one, incomplete, or inconsistent. */
export class OutputFolderError extends PipelineError {
  override name = 'OutputFolderError';
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Text from a file, made safe for a one-line message: control characters as spaces, at most `max` characters. */
export function oneLine(text: string, max = 120): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** A JSON value as a message shows it: short, on one line; `missing` for none. */
export function shown(v: unknown): string {
  if (v === undefined) return 'missing';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (isObject(v)) return 'an object';
  return oneLine(JSON.stringify(v) ?? String(v), 60);
}

/** `where/file`, as messages name a file of a folder (a path, or an s3:// URL ending in '/'). */
export function fileIn(where: string, file: string): string {
  return `${where.replace(/\/+$/, '')}/${file}`;
}

// eslint-disable-next-line no-control-regex
const NOT_IN_A_NAME = /[/\\:\u0000-\u001f\u007f]/;

/**
 * Whether `name` is a file directly inside an output folder: not empty, not `.` or `..`, no
 * separator of any system (`/`, `\`, a drive's `:`), no control character.
 */
export function isFolderFileName(name: unknown): name is string {
  return typeof name === 'string' && name !== '' && name !== '.' && name !== '..' && name.length <= 255 && !NOT_IN_A_NAME.test(name);
}

/** A path inside the folder made of such names (the Parquet copy: a file, or a folder of parts ending in '/'). */
const isFolderPath = (path: unknown): path is string =>
  typeof path === 'string' && path.replace(/\/$/, '').split('/').every(isFolderFileName);

/** Checks a parsed manifest (`at`: the file, as messages name it); returns it with its spec and scaler in canonical form. */
export function checkManifest(json: unknown, at: string): Manifest {
  const fail = (problem: string): never => {
    throw new OutputFolderError(`${at}: ${problem}`);
  };
  const expect = (field: string, v: unknown, ok: boolean, expected: string) => {
    if (!ok) fail(`${field}: expected ${expected}, found ${shown(v)}`);
  };
  if (!isObject(json)) return fail(`expected a track-embeddings manifest (a JSON object), found ${shown(json)}`);
  const m = json;
  if (m.manifestVersion === undefined && m.outputs === undefined) fail('not a track-embeddings manifest (no manifestVersion or outputs)');
  expect('manifestVersion', m.manifestVersion, m.manifestVersion === 1, '1 (the only version this tool reads)');
  expect('tool', m.tool, typeof m.tool === 'string' && m.tool.startsWith('track-embeddings '), '"track-embeddings <version>"');

  const input = m.input;
  if (!isObject(input)) return fail(`input: expected an object (name, bytes, rows, …), found ${shown(input)}`);
  expect('input.name', input.name, typeof input.name === 'string' && input.name !== '', 'the input file’s name');
  expect('input.bytes', input.bytes, isCount(input.bytes), 'a byte count');
  expect('input.rows', input.rows, isCount(input.rows), 'a row count');
  expect('input.etag', input.etag, input.etag === undefined || typeof input.etag === 'string', 'an ETag or nothing');

  const spec = specOf(m.spec, at);
  expect('dims', m.dims, m.dims === spec.features.length, `${spec.features.length} (the spec's features)`);

  const o = m.outputs;
  if (!isObject(o)) return fail(`outputs: expected an object (vectors, mapping, shape, …), found ${shown(o)}`);
  for (const key of ['vectors', 'mapping'] as const)
    expect(`outputs.${key}`, o[key], isFolderFileName(o[key]), 'the name of a file in this folder (no path)');
  expect(
    'outputs.idIndex',
    o.idIndex,
    o.idIndex === undefined || (isFolderFileName(o.idIndex) && o.idIndex !== o.vectors && o.idIndex !== o.mapping),
    'the name of another file in this folder (no path), or nothing',
  );
  expect('outputs.parquet', o.parquet, o.parquet === undefined || isFolderPath(o.parquet), 'a file or folder inside this folder');
  expect('outputs.dtype', o.dtype, o.dtype === 'float32', '"float32"');
  const shape = o.shape;
  expect('outputs.shape', shape, Array.isArray(shape) && shape.length === 2 && shape.every(isCount), '[rows, columns]');
  const [rows] = shape as [number, number];
  expect('input.rows', input.rows, input.rows === rows, `${rows} (outputs.shape's rows)`);
  expect('outputs.repeatedIds', o.repeatedIds, typeof o.repeatedIds === 'boolean', 'true or false');
  if (o.repeatedIds === false)
    expect('outputs.uniqueIds', o.uniqueIds, o.uniqueIds === rows, `${rows} (one id a row: repeatedIds is false)`);
  else
    expect(
      'outputs.uniqueIds',
      o.uniqueIds,
      o.uniqueIds === null || (isCount(o.uniqueIds) && o.uniqueIds < rows),
      `null or fewer than the ${rows} rows (repeatedIds is true)`,
    );
  const etags = o.etags;
  expect(
    'outputs.etags',
    etags,
    etags === undefined || (isObject(etags) && Object.values(etags).every((e) => typeof e === 'string')),
    'file → ETag',
  );
  for (const key of ['fittedFrom', 'jobId'] as const)
    expect(key, m[key], m[key] === undefined || typeof m[key] === 'string', 'a string or nothing');

  const scaler = checkScalerSection(m.scaler, spec, at);
  scaler.count.forEach((n, i) => {
    if (n > (input.rows as number) && m.fittedFrom === undefined)
      fail(`scaler.count: '${scaler.columns[i]}' counts ${n} values in ${input.rows as number} rows`);
  });
  return { ...(m as unknown as Manifest), spec, scaler };
}

/** The spec and fitted scaler of a manifest given to `transform --fitted` (`at`: its path): checked as a folder's reader checks them. */
export function fittedScaler(json: unknown, at: string): { spec: FeatureSpec; scaler: Scaler } {
  if (!isObject(json) || json.spec === undefined || json.scaler === undefined)
    throw new OutputFolderError(`${at}: not a track-embeddings manifest (no spec or scaler)`);
  if (json.manifestVersion !== undefined && json.manifestVersion !== 1)
    throw new OutputFolderError(
      `${at}: manifestVersion: expected 1 (the only version this tool reads), found ${shown(json.manifestVersion)}`,
    );
  const spec = specOf(json.spec, at);
  return { spec, scaler: scalerFromSection(checkScalerSection(json.scaler, spec, at)) };
}

/** The manifest's spec, checked as a user's spec is; its refusal as the folder's. */
function specOf(json: unknown, at: string): FeatureSpec {
  try {
    return parseSpec(json, `${at}: spec`);
  } catch (e: unknown) {
    if (e instanceof SpecError) throw new OutputFolderError(oneLine(e.message, 400), { cause: e });
    throw e;
  }
}

const SCALER_ARRAYS = ['count', 'mean', 'variance', 'scale'] as const;

/**
 * Checks a manifest's scaler section against its spec: `columns` names exactly the spec's
 * standardised columns (matched by name, in any order); `count`, `mean`, `variance`, `scale` (and
 * `dtype`) have one entry per column; a counted column has finite mean and variance and a scale
 * above 0, a column with no values (count 0) has null for all three (NaN). Returns the section in
 * the spec's order, as `compileSpec` reads it.
 */
export function checkScalerSection(json: unknown, spec: FeatureSpec, at: string): Manifest['scaler'] {
  const fail = (problem: string): never => {
    throw new OutputFolderError(`${at}: scaler${problem}`);
  };
  const wanted = standardizedColumns(spec);
  if (!isObject(json)) return fail(`: expected an object (columns, count, mean, variance, scale), found ${shown(json)}`);
  const columns = json.columns;
  if (!Array.isArray(columns) || !columns.every((c) => typeof c === 'string'))
    return fail(`.columns: expected the spec's standardised columns by name (${oneLine(wanted.join(', '), 300)}), found ${shown(columns)}`);
  const names = columns as string[];
  const quote = (c: string) => `'${oneLine(c, 60)}'`;
  const repeated = names.find((c, i) => names.indexOf(c) !== i);
  if (repeated !== undefined) fail(`.columns: ${quote(repeated)} is listed twice`);
  const missing = wanted.filter((c) => !names.includes(c));
  const extra = names.filter((c) => !wanted.includes(c));
  if (missing.length > 0 || extra.length > 0) {
    const problems = [
      ...(missing.length > 0 ? [`no ${missing.map(quote).join(', ')}`] : []),
      ...(extra.length > 0 ? [`${extra.map(quote).join(', ')} not standardised by the spec`] : []),
    ];
    fail(`.columns: ${problems.join('; ')} (the spec standardises ${oneLine(wanted.join(', '), 300)})`);
  }
  const arrays = {} as Record<(typeof SCALER_ARRAYS)[number], unknown[]>;
  for (const key of SCALER_ARRAYS) {
    const xs = json[key];
    if (!Array.isArray(xs) || xs.length !== names.length)
      fail(`.${key}: expected ${names.length} values (one per scaler.columns), found ${shown(xs)}`);
    arrays[key] = xs as unknown[];
  }
  const dtype = json.dtype;
  if (
    dtype !== undefined &&
    (!Array.isArray(dtype) || dtype.length !== names.length || !dtype.every((d) => d === 'float32' || d === 'float64'))
  )
    fail(`.dtype: expected ${names.length} of "float32" or "float64" (one per scaler.columns), or nothing, found ${shown(dtype)}`);
  names.forEach((c, i) => {
    const n = arrays.count[i];
    const at = (key: string) => `.${key} of ${quote(c)}`;
    if (!isCount(n)) fail(`${at('count')}: expected a count of values, found ${shown(n)}`);
    for (const key of ['mean', 'variance', 'scale'] as const) {
      const v = arrays[key][i];
      if (n === 0 && v !== null) fail(`${at(key)}: expected null (the column has no values: count 0), found ${shown(v)}`);
      if (n !== 0 && !isFiniteNumber(v))
        fail(`${at(key)}: expected a finite number (${n as number} values were counted), found ${shown(v)}`);
    }
    const scale = arrays.scale[i];
    if (n !== 0 && !((scale as number) > 0)) fail(`${at('scale')}: expected a number above 0, found ${shown(scale)}`);
  });
  // Matched by name: the arrays in the spec's order, whatever order the file lists them in.
  const order = wanted.map((c) => names.indexOf(c));
  const pick = <T>(xs: readonly unknown[]) => order.map((j) => xs[j] as T);
  return {
    columns: wanted,
    count: pick<number>(arrays.count),
    mean: pick<number | null>(arrays.mean),
    variance: pick<number | null>(arrays.variance),
    scale: pick<number | null>(arrays.scale),
    ...(Array.isArray(dtype) && { dtype: pick<MatrixDtype>(dtype) }),
  };
}
