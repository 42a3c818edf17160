import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig, readPrefixes } from '../../lib/aws/config.ts';

describe('configuration', () => {
  it('names every missing or malformed variable in one error', () => {
    expect(() => readConfig({ SHARD_ROWS: 'many', OUTPUT_PREFIX: 'out' })).toThrow(ConfigError);
    expect(() => readConfig({ SHARD_ROWS: 'many', OUTPUT_PREFIX: 'out' })).toThrow(
      "invalid configuration: STATS_FUNCTION_NAME is not set; EMBED_FUNCTION_NAME is not set; REDUCE_FUNCTION_NAME is not set; SHARD_ROWS must be a positive integer, got 'many'; OUTPUT_PREFIX must end with '/', got 'out'",
    );
  });

  it('reads the stats part size and refuses a bad one', () => {
    const names = { STATS_FUNCTION_NAME: 's', EMBED_FUNCTION_NAME: 'e', REDUCE_FUNCTION_NAME: 'r' };
    expect(readConfig({ ...names, STATS_PART_ROWS: '2000' }).statsPartRows).toBe(2000);
    expect(() => readConfig({ ...names, STATS_PART_ROWS: '0' })).toThrow("STATS_PART_ROWS must be a positive integer, got '0'");
  });

  it('reads the prefixes alone for tools that only read a job, with the same checks', () => {
    expect(readPrefixes({ OUTPUT_PREFIX: 'out/' })).toEqual({ input: 'incoming/', jobs: 'jobs/', output: 'out/' });
    expect(() => readPrefixes({ JOBS_PREFIX: 'j' })).toThrow("invalid configuration: JOBS_PREFIX must end with '/', got 'j'");
  });

  it('has defaults for everything but the function names', () => {
    expect(readConfig({ STATS_FUNCTION_NAME: 's', EMBED_FUNCTION_NAME: 'e', REDUCE_FUNCTION_NAME: 'r' })).toEqual({
      statsFunction: 's',
      embedFunction: 'e',
      reduceFunction: 'r',
      shardRows: 1 << 20,
      statsPartRows: 1 << 24,
      parquet: false,
      prefixes: { input: 'incoming/', jobs: 'jobs/', output: 'embeddings/' },
      // Three 15-minute attempts and Lambda's retry delays; then three redrives.
      stallMs: 2_880_000,
      maxRedrives: 3,
    });
  });

  it('publishes Parquet parts only when PARQUET_OUTPUT is true, and refuses anything but true or false', () => {
    const base = { STATS_FUNCTION_NAME: 's', EMBED_FUNCTION_NAME: 'e', REDUCE_FUNCTION_NAME: 'r' };
    expect(readConfig(base).parquet).toBe(false);
    expect(readConfig({ ...base, PARQUET_OUTPUT: 'true' }).parquet).toBe(true);
    expect(readConfig({ ...base, PARQUET_OUTPUT: 'false' }).parquet).toBe(false);
    expect(() => readConfig({ ...base, PARQUET_OUTPUT: '1' })).toThrow("PARQUET_OUTPUT must be 'true' or 'false', got '1'");
  });

  it('reads the stall timeout and the redrive limit, and refuses bad ones', () => {
    const base = { STATS_FUNCTION_NAME: 's', EMBED_FUNCTION_NAME: 'e', REDUCE_FUNCTION_NAME: 'r' };
    expect(readConfig({ ...base, STALL_TIMEOUT_SECONDS: '600', MAX_REDRIVES: '0' })).toMatchObject({ stallMs: 600_000, maxRedrives: 0 });
    expect(() => readConfig({ ...base, STALL_TIMEOUT_SECONDS: '0', MAX_REDRIVES: '-1' })).toThrow(
      /STALL_TIMEOUT_SECONDS must be an integer of at least 1, got '0'.*MAX_REDRIVES must be an integer of at least 0, got '-1'/,
    );
  });
});
