/**
 * The S3 layout of a job and of its published outputs (DESIGN.md, "The serverless flow"):
 * one place that names every key, so handlers, status and tests agree.
 */
import { createHash } from 'node:crypto';

/** Where uploads land and trigger the pipeline, and where results are published. */
export interface Prefixes {
  input: string;
  jobs: string;
  output: string;
}

export const DEFAULT_PREFIXES: Prefixes = { input: 'incoming/', jobs: 'jobs/', output: 'embeddings/' };

/** The job of one version of one object: a duplicate event maps to the same job, a new upload to a new one. */
export function jobIdFor(bucket: string, key: string, etag: string): string {
  return createHash('sha256').update(`${bucket}\n${key}\n${etag}`).digest('hex').slice(0, 24);
}

/** `incoming/a/b.parquet` → `a/b`: the name outputs are published under. */
export function outputName(key: string, prefixes: Prefixes = DEFAULT_PREFIXES): string {
  const rel = key.startsWith(prefixes.input) ? key.slice(prefixes.input.length) : key;
  return rel.replace(/\.parquet$/i, '');
}

/** Every key of job `jobId`. */
export function jobKeys(jobId: string, prefixes: Prefixes = DEFAULT_PREFIXES) {
  const base = `${prefixes.jobs}${jobId}/`;
  return {
    prefix: base,
    plan: `${base}plan.json`,
    /** Written instead of the plan when the statistics fan out: the parts, and what the plan needs. */
    statsPlan: `${base}stats.json`,
    statsPartsPrefix: `${base}stats-parts/`,
    statsPart: (part: number) => `${base}stats-parts/${part}`,
    vectors: (shard: number) => `${base}shards/${shard}.f32`,
    ids: (shard: number) => `${base}shards/${shard}.ids`,
    hashes: (shard: number) => `${base}shards/${shard}.hash`,
    parquet: (shard: number) => `${base}shards/${shard}.parquet`,
    donePrefix: `${base}done/`,
    done: (shard: number) => `${base}done/${shard}`,
    reduceClaim: `${base}reduce.claim`,
    failed: `${base}failed.json`,
    /** The job's entry in the index of unfinished jobs that the reconciler sweeps. */
    active: `${indexKeys(prefixes).activePrefix}${jobId}`,
  };
}

/** The index of unfinished jobs, and the reconciler's own record, under the jobs prefix. */
export function indexKeys(prefixes: Prefixes = DEFAULT_PREFIXES) {
  return {
    activePrefix: `${prefixes.jobs}active/`,
    sweep: `${prefixes.jobs}reconciler.json`,
  };
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
