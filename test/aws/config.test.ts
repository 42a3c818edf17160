import { describe, expect, it } from 'vitest';
import { ConfigError, JOB_DEFAULTS, readBucket, readJobConfig, readPrefixes, readStartConfig } from '../../lib/aws/config.ts';

const NAMES = { STATS_FUNCTION_NAME: 's', EMBED_FUNCTION_NAME: 'e', REDUCE_FUNCTION_NAME: 'r' };

describe('the job function’s configuration', () => {
  it('names every missing or malformed variable in one error', () => {
    const env = { SHARD_ROWS: 'many', EMBED_CONCURRENCY: '0', INVOKE_ATTEMPTS: '1.5', PARQUET_OUTPUT: 'yes', OUTPUT_PREFIX: 'out' };

    expect(() => readJobConfig(env)).toThrow(ConfigError);
    expect(() => readJobConfig(env)).toThrow(
      'invalid configuration: STATS_FUNCTION_NAME is not set; EMBED_FUNCTION_NAME is not set; REDUCE_FUNCTION_NAME is not set; ' +
        "SHARD_ROWS must be a positive integer, got 'many'; PARQUET_OUTPUT must be 'true' or 'false', got 'yes'; " +
        "EMBED_CONCURRENCY must be a positive integer, got '0'; INVOKE_ATTEMPTS must be a positive integer, got '1.5'; " +
        "OUTPUT_PREFIX must end with '/', got 'out'",
    );
  });

  it('has defaults for everything but the function names', () => {
    expect(readJobConfig(NAMES)).toEqual({
      statsFunction: 's',
      embedFunction: 'e',
      reduceFunction: 'r',
      shardRows: 1 << 20,
      statsPartRows: 1 << 20,
      parquet: false,
      concurrency: 20,
      attempts: 3,
      retryDelaySeconds: 5,
      // Six hours of execution timeout and a 15-minute reduce.
      publishLeaseMs: 22_500_000,
      prefixes: { input: 'incoming/', jobs: 'jobs/', output: 'embeddings/' },
    });
    expect(JOB_DEFAULTS.publishLeaseSeconds * 1000).toBe(22_500_000);
  });

  it.each([
    ['SHARD_ROWS', '5000', { shardRows: 5000 }],
    ['STATS_PART_ROWS', '2000', { statsPartRows: 2000 }],
    ['EMBED_CONCURRENCY', '4', { concurrency: 4 }],
    ['INVOKE_ATTEMPTS', '1', { attempts: 1 }],
    ['RETRY_DELAY_SECONDS', '2', { retryDelaySeconds: 2 }],
    ['PUBLISH_LEASE_SECONDS', '60', { publishLeaseMs: 60_000 }],
    ['PARQUET_OUTPUT', 'true', { parquet: true }],
    ['PARQUET_OUTPUT', 'false', { parquet: false }],
    ['JOBS_PREFIX', 'work/', { prefixes: { input: 'incoming/', jobs: 'work/', output: 'embeddings/' } }],
  ])('reads %s=%s', (name, value, expected) => {
    expect(readJobConfig({ ...NAMES, [name]: value })).toMatchObject(expected);
  });

  it.each([
    ['STATS_PART_ROWS', '0', "STATS_PART_ROWS must be a positive integer, got '0'"],
    ['RETRY_DELAY_SECONDS', '-1', "RETRY_DELAY_SECONDS must be a positive integer, got '-1'"],
    ['PUBLISH_LEASE_SECONDS', 'soon', "PUBLISH_LEASE_SECONDS must be a positive integer, got 'soon'"],
    ['PARQUET_OUTPUT', '1', "PARQUET_OUTPUT must be 'true' or 'false', got '1'"],
    ['INPUT_PREFIX', 'incoming', "INPUT_PREFIX must end with '/', got 'incoming'"],
  ])('refuses %s=%s', (name, value, message) => {
    expect(() => readJobConfig({ ...NAMES, [name]: value })).toThrow(`invalid configuration: ${message}`);
  });
});

describe('the start function’s configuration', () => {
  it('needs the job function and takes the prefixes', () => {
    expect(readStartConfig({ JOB_FUNCTION_NAME: 'job:live', INPUT_PREFIX: 'in/' })).toEqual({
      jobFunction: 'job:live',
      prefixes: { input: 'in/', jobs: 'jobs/', output: 'embeddings/' },
    });
  });

  it('names every missing or malformed variable in one error', () => {
    expect(() => readStartConfig({ JOB_FUNCTION_NAME: '', JOBS_PREFIX: 'j' })).toThrow(ConfigError);
    expect(() => readStartConfig({ JOB_FUNCTION_NAME: '', JOBS_PREFIX: 'j' })).toThrow(
      "invalid configuration: JOB_FUNCTION_NAME is not set; JOBS_PREFIX must end with '/', got 'j'",
    );
  });
});

describe('the other functions’ configuration', () => {
  it('reads the prefixes alone for tools that only read a job, with the same checks', () => {
    expect(readPrefixes({ OUTPUT_PREFIX: 'out/' })).toEqual({ input: 'incoming/', jobs: 'jobs/', output: 'out/' });
    expect(() => readPrefixes({ JOBS_PREFIX: 'j' })).toThrow(ConfigError);
    expect(() => readPrefixes({ JOBS_PREFIX: 'j' })).toThrow("invalid configuration: JOBS_PREFIX must end with '/', got 'j'");
  });

  it('reads the query function’s bucket, and says when it is missing', () => {
    expect(readBucket({ BUCKET_NAME: 'b' })).toBe('b');
    expect(() => readBucket({})).toThrow(ConfigError);
    expect(() => readBucket({})).toThrow('invalid configuration: BUCKET_NAME is not set');
  });
});
