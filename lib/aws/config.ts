/** The Lambdas' configuration, read once from the environment and validated as a whole. */
import { DEFAULT_PREFIXES, type Prefixes } from '../pipeline/keys.ts';
import type { JobSettings } from '../pipeline/job.ts';
import { PipelineError } from '../errors.ts';
import { ENV } from './env.ts';
import { DEFAULT_MAX_SHARD_ROWS, DEFAULT_STATS_PART_ROWS } from '../embedding/shard-plan.ts';

/** The job function's configuration: what it invokes, how it plans, how hard it retries, and where. */
export interface JobConfig extends JobSettings {
  prefixes: Prefixes;
}

/** The start function's: the job function to start (qualified: `name:alias`), and where. */
export interface StartConfig {
  jobFunction: string;
  prefixes: Prefixes;
}

/** Raised when the environment lacks or garbles a setting; names every problem at once. */
export class ConfigError extends PipelineError {
  override name = 'ConfigError';
}

/** Defaults of the job's settings where the environment says nothing (the stack sets them all). */
export const JOB_DEFAULTS = {
  concurrency: 20,
  attempts: 3,
  retryDelaySeconds: 5,
  /** Six hours of execution timeout plus a 15-minute reduce: the stack's defaults. */
  publishLeaseSeconds: 6 * 3600 + 900,
};

/** Reads the job function's configuration; every missing or malformed variable is named in one error. */
export function readJobConfig(env: NodeJS.ProcessEnv = process.env): JobConfig {
  const r = reader(env);
  const config: JobConfig = {
    statsFunction: r.required(ENV.statsFunction),
    embedFunction: r.required(ENV.embedFunction),
    reduceFunction: r.required(ENV.reduceFunction),
    shardRows: r.positive(ENV.shardRows, DEFAULT_MAX_SHARD_ROWS),
    statsPartRows: r.positive(ENV.statsPartRows, DEFAULT_STATS_PART_ROWS),
    parquet: r.flag(ENV.parquetOutput),
    concurrency: r.positive(ENV.embedConcurrency, JOB_DEFAULTS.concurrency),
    attempts: r.positive(ENV.invokeAttempts, JOB_DEFAULTS.attempts),
    retryDelaySeconds: r.positive(ENV.retryDelaySeconds, JOB_DEFAULTS.retryDelaySeconds),
    publishLeaseMs: r.positive(ENV.publishLeaseSeconds, JOB_DEFAULTS.publishLeaseSeconds) * 1000,
    prefixes: prefixesFrom(env, r.problems),
  };
  r.done();
  return config;
}

/** Reads the start function's configuration. */
export function readStartConfig(env: NodeJS.ProcessEnv = process.env): StartConfig {
  const r = reader(env);
  const config = { jobFunction: r.required(ENV.jobFunction), prefixes: prefixesFrom(env, r.problems) };
  r.done();
  return config;
}

/** The pipeline bucket, which the query function reads. */
export function readBucket(env: NodeJS.ProcessEnv = process.env): string {
  const bucket = env[ENV.bucket];
  if (!bucket) throw new ConfigError(`invalid configuration: ${ENV.bucket} is not set`);
  return bucket;
}

/** The S3 prefixes alone (the stats, embed and reduce functions, and tools that only read a job, such as `status`). */
export function readPrefixes(env: NodeJS.ProcessEnv = process.env): Prefixes {
  const problems: string[] = [];
  const prefixes = prefixesFrom(env, problems);
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  return prefixes;
}

function reader(env: NodeJS.ProcessEnv) {
  const problems: string[] = [];
  return {
    problems,
    required(name: string): string {
      const v = env[name];
      if (v === undefined || v === '') problems.push(`${name} is not set`);
      return v ?? '';
    },
    positive(name: string, fallback: number): number {
      const raw = env[name] || String(fallback);
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 1) problems.push(`${name} must be a positive integer, got '${raw}'`);
      return n;
    },
    flag(name: string): boolean {
      const raw = env[name] || 'false';
      if (raw !== 'true' && raw !== 'false') problems.push(`${name} must be 'true' or 'false', got '${raw}'`);
      return raw === 'true';
    },
    done() {
      if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
    },
  };
}

function prefixesFrom(env: NodeJS.ProcessEnv, problems: string[]): Prefixes {
  const prefix = (name: string, fallback: string): string => {
    const v = env[name] ?? fallback;
    if (!v.endsWith('/')) problems.push(`${name} must end with '/', got '${v}'`);
    return v;
  };
  return {
    input: prefix(ENV.inputPrefix, DEFAULT_PREFIXES.input),
    jobs: prefix(ENV.jobsPrefix, DEFAULT_PREFIXES.jobs),
    output: prefix(ENV.outputPrefix, DEFAULT_PREFIXES.output),
  };
}
