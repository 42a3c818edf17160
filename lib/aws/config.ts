/** The Lambdas' configuration, read once from the environment and validated as a whole. */
import { DEFAULT_PREFIXES, type Prefixes } from '../pipeline/keys.ts';
import { PipelineError } from '../errors.ts';
import { ENV } from './env.ts';
import { DEFAULT_STALL_MS } from '../pipeline/invoker.ts';
import { DEFAULT_MAX_REDRIVES } from '../pipeline/reconcile-step.ts';
import { DEFAULT_MAX_SHARD_ROWS, DEFAULT_STATS_PART_ROWS } from '../embedding/shard-plan.ts';

export interface Config {
  /** The stats function itself: invoked once per stats part when the statistics fan out. */
  statsFunction: string;
  /** Function invoked once per shard. */
  embedFunction: string;
  /** Function invoked once per job by the last shard. */
  reduceFunction: string;
  shardRows: number;
  /** Files with more rows compute their statistics in parts of at most this many rows. */
  statsPartRows: number;
  /** Also publish the embeddings as Parquet, one part per shard (default no). */
  parquet?: boolean;
  prefixes: Prefixes;
  /** How long a job, a claim or a lock may go without progress before it is presumed lost (default DEFAULT_STALL_MS). */
  stallMs?: number;
  /** How many times the reconciler redrives a stalled job before failing it (default 3). */
  maxRedrives?: number;
}

/** Raised when the environment lacks or garbles a setting; names every problem at once. */
export class ConfigError extends PipelineError {
  override name = 'ConfigError';
}

/** Reads the configuration from `env`; every missing or malformed variable is named in one error. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const required = (name: string): string => {
    const v = env[name];
    if (v === undefined || v === '') problems.push(`${name} is not set`);
    return v ?? '';
  };
  const positive = (name: string, fallback: number): number => {
    const raw = env[name] || String(fallback);
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) problems.push(`${name} must be a positive integer, got '${raw}'`);
    return n;
  };
  const statsFunction = required(ENV.statsFunction);
  const embedFunction = required(ENV.embedFunction);
  const reduceFunction = required(ENV.reduceFunction);
  const shardRows = positive(ENV.shardRows, DEFAULT_MAX_SHARD_ROWS);
  const statsPartRows = positive(ENV.statsPartRows, DEFAULT_STATS_PART_ROWS);
  const parquetRaw = env[ENV.parquetOutput] || 'false';
  if (parquetRaw !== 'true' && parquetRaw !== 'false') problems.push(`${ENV.parquetOutput} must be 'true' or 'false', got '${parquetRaw}'`);
  const parquet = parquetRaw === 'true';
  const prefixes = prefixesFrom(env, problems);
  const { stallMs, maxRedrives } = recoveryFrom(env, problems);
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  return { statsFunction, embedFunction, reduceFunction, shardRows, statsPartRows, parquet, prefixes, stallMs, maxRedrives };
}

/** The pipeline bucket, which the reconciler sweeps. */
export function readBucket(env: NodeJS.ProcessEnv = process.env): string {
  const bucket = env[ENV.bucket];
  if (!bucket) throw new ConfigError(`invalid configuration: ${ENV.bucket} is not set`);
  return bucket;
}

/** The S3 prefixes alone (for tools that only read a job, such as `npm run status`). */
export function readPrefixes(env: NodeJS.ProcessEnv = process.env): Prefixes {
  const problems: string[] = [];
  const prefixes = prefixesFrom(env, problems);
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  return prefixes;
}

/** The stall timeout and the redrive limit, with their defaults; status reads them too. */
export function recoveryFrom(env: NodeJS.ProcessEnv, problems: string[] = []): { stallMs: number; maxRedrives: number } {
  const count = (name: string, fallback: number, min: number): number => {
    const raw = env[name] || String(fallback);
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) problems.push(`${name} must be an integer of at least ${min}, got '${raw}'`);
    return n;
  };
  const stallMs = count(ENV.stallTimeoutSeconds, DEFAULT_STALL_MS / 1000, 1) * 1000;
  const maxRedrives = count(ENV.maxRedrives, DEFAULT_MAX_REDRIVES, 0);
  return { stallMs, maxRedrives };
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
