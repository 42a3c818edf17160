/** The Lambdas' configuration, read once from the environment and validated as a whole. */
import { DEFAULT_PREFIXES, type Prefixes } from './job-keys.ts';
import { PipelineError } from './errors.ts';
import { DEFAULT_MAX_SHARD_ROWS } from './shard-plan.ts';

export interface Config {
  /** Function invoked once per shard. */
  embedFunction: string;
  /** Function invoked once per job by the last shard. */
  reduceFunction: string;
  shardRows: number;
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
  const embedFunction = required('EMBED_FUNCTION_NAME');
  const reduceFunction = required('REDUCE_FUNCTION_NAME');
  const rawRows = env.SHARD_ROWS ?? String(DEFAULT_MAX_SHARD_ROWS);
  const shardRows = Number(rawRows);
  if (!Number.isInteger(shardRows) || shardRows < 1) problems.push(`SHARD_ROWS must be a positive integer, got '${rawRows}'`);
  const prefixes = prefixesFrom(env, problems);
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  return { embedFunction, reduceFunction, shardRows, prefixes };
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
    input: prefix('INPUT_PREFIX', DEFAULT_PREFIXES.input),
    jobs: prefix('JOBS_PREFIX', DEFAULT_PREFIXES.jobs),
    output: prefix('OUTPUT_PREFIX', DEFAULT_PREFIXES.output),
  };
}
