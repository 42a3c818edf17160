/**
 * The environment variables of the Lambdas, spelled once: the stack sets them, `readConfig`
 * reads them, and the tests and the local pipeline build their environments from them.
 */
export const ENV = {
  /** The durable job function, qualified (`name:alias`): what the start function starts one execution of per upload. */
  jobFunction: 'JOB_FUNCTION_NAME',
  statsFunction: 'STATS_FUNCTION_NAME',
  embedFunction: 'EMBED_FUNCTION_NAME',
  reduceFunction: 'REDUCE_FUNCTION_NAME',
  shardRows: 'SHARD_ROWS',
  statsPartRows: 'STATS_PART_ROWS',
  inputPrefix: 'INPUT_PREFIX',
  jobsPrefix: 'JOBS_PREFIX',
  outputPrefix: 'OUTPUT_PREFIX',
  /** Shards (and statistics parts) the job's map invokes at once. */
  embedConcurrency: 'EMBED_CONCURRENCY',
  /** Attempts of each invoke of stats, embed and reduce before the job fails (the SDK's invoke has no retry of its own). */
  invokeAttempts: 'INVOKE_ATTEMPTS',
  /** Seconds before the first retry of a failed step or invoke; doubles per attempt. */
  retryDelaySeconds: 'RETRY_DELAY_SECONDS',
  /** The job function's execution timeout plus the reduce timeout: after it a publish lock's holder is certainly gone. */
  publishLeaseSeconds: 'PUBLISH_LEASE_SECONDS',
  /** 'true': the pipeline also publishes the embeddings as Parquet parts (`<name>/parquet/part-*.parquet`). */
  parquetOutput: 'PARQUET_OUTPUT',
  /** The pipeline bucket (the query function's; the others take it from their events). */
  bucket: 'BUCKET_NAME',
  /** The largest output (rows) the query function loads; its memory is sized for it. */
  queryMaxRows: 'QUERY_MAX_ROWS',
} as const;

/** Rows the query function loads when its environment does not say (the stack's default). */
export const DEFAULT_QUERY_MAX_ROWS = 2_000_000;

/** Peak memory the query function takes per row of loaded outputs (its byte budget, and the stack's memory check: cdk/props.ts). */
export const QUERY_BYTES_PER_ROW = 600;
