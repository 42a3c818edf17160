/** The Lambdas' configuration, read once from the environment and validated as a whole. */
import { DEFAULT_PREFIXES, type Prefixes } from '../pipeline/keys.ts';
import { PipelineError } from '../errors.ts';
import { ENV } from './env.ts';
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
  prefixes: Prefixes;
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
  const prefixes = prefixesFrom(env, problems);
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  return { statsFunction, embedFunction, reduceFunction, shardRows, statsPartRows, prefixes };
}

/** The S3 prefixes alone (for tools that only read a job, such as `npm run status`). */
export function readPrefixes(env: NodeJS.ProcessEnv = process.env): Prefixes {
  const problems: string[] = [];
  const prefixes = prefixesFrom(env, problems);
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  return prefixes;
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
