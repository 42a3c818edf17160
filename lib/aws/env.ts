/**
 * The environment variables of the Lambdas, spelled once: the stack sets them, `readConfig`
 * reads them, and the tests and the local pipeline build their environments from them.
 */
export const ENV = {
  statsFunction: 'STATS_FUNCTION_NAME',
  embedFunction: 'EMBED_FUNCTION_NAME',
  reduceFunction: 'REDUCE_FUNCTION_NAME',
  shardRows: 'SHARD_ROWS',
  statsPartRows: 'STATS_PART_ROWS',
  inputPrefix: 'INPUT_PREFIX',
  jobsPrefix: 'JOBS_PREFIX',
  outputPrefix: 'OUTPUT_PREFIX',
  stallTimeoutSeconds: 'STALL_TIMEOUT_SECONDS',
  maxRedrives: 'MAX_REDRIVES',
  /** 'true': the pipeline also publishes the embeddings as Parquet parts (`<name>/parquet/part-*.parquet`). */
  parquetOutput: 'PARQUET_OUTPUT',
  /** The pipeline bucket, for the reconciler (the other functions take it from their events). */
  bucket: 'BUCKET_NAME',
  /** The largest output (rows) the query function loads; its memory is sized for it. */
  queryMaxRows: 'QUERY_MAX_ROWS',
} as const;

/** Rows the query function loads when its environment does not say (the stack's default). */
export const DEFAULT_QUERY_MAX_ROWS = 2_000_000;
