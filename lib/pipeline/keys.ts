/**
 * The S3 layout of a job and of its published outputs (DESIGN.md, "The serverless flow"):
 * one place that names every key, so handlers, status and tests agree.
 */
import { createHash } from 'node:crypto';
import { parquetPartFile } from '../outputs/file-names.ts';

/** Where uploads land and trigger the pipeline, and where results are published. */
export interface Prefixes {
  input: string;
  jobs: string;
  output: string;
}

export const DEFAULT_PREFIXES: Prefixes = { input: 'incoming/', jobs: 'jobs/', output: 'embeddings/' };

/** S3's limit on a key, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;
/** The longest file name an output folder holds (`parquet/part-NNNNN.parquet`, and the outputs' own names are shorter). */
const LONGEST_OUTPUT_FILE = parquetPartFile(99_999);
const utf8 = new TextEncoder();

/**
 * The job of one version of one object, and of one run of it: a duplicate event maps to the
 * same job (and execution name), a new upload to a new one, and a run after a failed one of the
 * same bytes to the next generation. `[0-9a-f-g]`, at most 28 characters: a valid execution name.
 */
export function jobIdFor(bucket: string, key: string, etag: string, generation = 0): string {
  const base = createHash('sha256').update(`${bucket}\n${key}\n${etag}`).digest('hex').slice(0, 24);
  return generation > 0 ? `${base}-g${generation}` : base;
}

/** `incoming/a/b.parquet` → `a/b`: the name outputs are published under. */
export function outputName(key: string, prefixes: Prefixes = DEFAULT_PREFIXES): string {
  const rel = key.startsWith(prefixes.input) ? key.slice(prefixes.input.length) : key;
  return rel.replace(/\.parquet$/i, '');
}

/**
 * Why the outputs of an upload at `key` could not be written, or null when they can: outside
 * the input prefix, not `.parquet` (in that case exactly), a `.`/`..`/empty path segment,
 * control characters, or output keys past S3's 1,024 bytes.
 */
export function keyProblem(key: string, prefixes: Prefixes = DEFAULT_PREFIXES): string | null {
  if (!key.startsWith(prefixes.input)) return `it is not under ${prefixes.input}`;
  if (!key.endsWith('.parquet'))
    return /\.parquet$/i.test(key)
      ? `its suffix is '${key.slice(-8)}': the pipeline takes '.parquet', in lower case`
      : 'it does not end in .parquet';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'it contains control characters';
  const name = outputName(key, prefixes);
  if (name.split('/').some((s) => s === '' || s === '.' || s === '..'))
    return `its name '${name}' has an empty, '.' or '..' path segment, which S3 clients and file systems resolve differently`;
  const longest = utf8.encode(outputKeys(name, prefixes).file(LONGEST_OUTPUT_FILE)).byteLength;
  if (longest > MAX_KEY_BYTES)
    return `its outputs' keys would be ${longest} bytes, past S3's ${MAX_KEY_BYTES}: shorten the name by ${longest - MAX_KEY_BYTES} bytes`;
  return null;
}

/** Every key of job `jobId`. */
export function jobKeys(jobId: string, prefixes: Prefixes = DEFAULT_PREFIXES) {
  const base = `${prefixes.jobs}${jobId}/`;
  return {
    prefix: base,
    plan: `${base}plan.json`,
    /** The statistics' plan: the tasks, their parts, and what the job plan needs besides the statistics. */
    statsPlan: `${base}stats.json`,
    /** A statistics part's sums (its tasks' moments), and its deviations from the merged means. */
    statsPart: (part: number) => `${base}stats-parts/${part}`,
    deviationsPart: (part: number) => `${base}stats-deviations/${part}`,
    // A prefix per shard: S3's request rates are per prefix, and every id partition reads a range
    // of every shard's keys (P × S GETs: on one prefix, 12,000 at 100M rows already meet SlowDown).
    vectors: (shard: number) => `${base}shards/${shard}/vectors.f32`,
    ids: (shard: number) => `${base}shards/${shard}/ids`,
    hashes: (shard: number) => `${base}shards/${shard}/hash`,
    parquet: (shard: number) => `${base}shards/${shard}/rows.parquet`,
    /** The shard's id keys sorted by hash (the id index's and the repeated-id pass's input), and its row block. */
    keys: (shard: number) => `${base}shards/${shard}/keys`,
    rowids: (shard: number) => `${base}shards/${shard}/rowids`,
    /** What a shard wrote (sizes, timings): the reducer stitches from these. */
    shardRecord: (shard: number) => `${base}done/${shard}`,
    shardRecordPrefix: `${base}done/`,
  };
}

/** The lock that lets one job at a time publish output `name`, under the jobs prefix. */
export function publishLockKey(name: string, prefixes: Prefixes = DEFAULT_PREFIXES): string {
  return `${prefixes.jobs}publish-locks/${createHash('sha256').update(name).digest('hex').slice(0, 32)}`;
}

/** Where the error of an upload whose own output folder cannot be written goes (see `keyProblem`). */
export function rejectedKeyErrorKey(key: string, prefixes: Prefixes = DEFAULT_PREFIXES): string {
  return `${prefixes.output}_rejected/${createHash('sha256').update(key).digest('hex').slice(0, 32)}/error.json`;
}

/** The published files of output `name`. */
export function outputKeys(name: string, prefixes: Prefixes = DEFAULT_PREFIXES) {
  const base = `${prefixes.output}${name}/`;
  return {
    prefix: base,
    file: (file: string) => `${base}${file}`,
    manifest: `${base}manifest.json`,
    error: `${base}error.json`,
  };
}
