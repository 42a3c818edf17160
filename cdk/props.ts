/** The stack's settings, read from CDK context (`-c key=value` or cdk.json) with defaults. */
import { DEFAULT_QUERY_MAX_ROWS, QUERY_BYTES_PER_ROW } from '../lib/aws/env.ts';
import { DEFAULT_STATS_PART_ROWS } from '../lib/embedding/shard-plan.ts';
import type { Node } from 'constructs';

/** The pipeline's Lambda functions, each built from `functions/<id>/index.ts`. */
export type FunctionId = 'start' | 'job' | 'stats' | 'embed' | 'reduce' | 'query';

export interface PipelineProps {
  /** Use this existing bucket instead of creating one. */
  bucketName?: string;
  inputPrefix: string;
  jobsPrefix: string;
  outputPrefix: string;
  /** Rows per shard, i.e. per embed invocation. */
  shardRows: number;
  /** Files with more rows compute their statistics in parts of this many rows, one stats invocation each. */
  statsPartRows: number;
  memoryMb: Record<FunctionId, number>;
  /** Seconds per invocation; the job's is one replay of the orchestrator, not the whole job (see jobTimeoutMinutes). */
  timeoutSeconds: Record<FunctionId, number>;
  /** Also publish the embeddings as Parquet parts, one per shard (`<name>/parquet/part-*.parquet`). */
  parquetOutput: boolean;
  /** The largest output, in rows, the query function loads (all names it keeps together); sized with memoryMb.query. */
  queryMaxRows: number;
  /** Minutes a job (one durable execution, all its steps and waits) may run before Lambda stops it. */
  jobTimeoutMinutes: number;
  /** Days Lambda keeps a finished job's execution history (the steps the console lists). */
  jobRetentionDays: number;
  /** Attempts of each invoke of stats, embed and reduce before the job fails. */
  invokeAttempts: number;
  /** Seconds before the first retry of a failed step or invoke; doubles per attempt. */
  retryDelaySeconds: number;
  /** Reserved concurrency of the embed function, and the shards the job's map invokes at once; 0 reserves none (the map then takes the default). */
  embedConcurrency: number;
  logRetentionDays: number;
  /** Days before job scratch objects under the jobs prefix expire. */
  jobsExpireDays: number;
  /** Where alarm notifications go: an SNS topic with this email subscribed, if set. */
  alarmEmail?: string;
  /** Reserved concurrency of the query function (one caller cannot starve the pipeline); 0 reserves none. */
  queryConcurrency: number;
  /** X-Ray active tracing on every function (Powertools Tracer subsegments per invocation and SDK call). */
  tracing: boolean;
  /** Versioning on the bucket the stack creates (an existing bucket keeps its own setting). */
  bucketVersioning: boolean;
  /** A KMS key: the created bucket is encrypted with it (SSE-KMS), and every function may use it (an existing SSE-KMS bucket). */
  kmsKeyArn?: string;
}

/** The retention periods CloudWatch Logs accepts. */
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

export const DEFAULTS: PipelineProps = {
  inputPrefix: 'incoming/',
  jobsPrefix: 'jobs/',
  outputPrefix: 'embeddings/',
  shardRows: 1_048_576,
  statsPartRows: DEFAULT_STATS_PART_ROWS,
  // 1,769 MB is one full vCPU: the work is single-threaded and CPU-bound, so less memory costs the same and runs longer (docs/scaling.md).
  memoryMb: { start: 256, job: 512, stats: 1769, embed: 1769, reduce: 1769, query: 1769 },
  timeoutSeconds: { start: 60, job: 900, stats: 900, embed: 900, reduce: 900, query: 60 },
  queryMaxRows: DEFAULT_QUERY_MAX_ROWS,
  parquetOutput: false,
  jobTimeoutMinutes: 360,
  jobRetentionDays: 14,
  invokeAttempts: 3,
  retryDelaySeconds: 5,
  embedConcurrency: 20,
  logRetentionDays: 30,
  jobsExpireDays: 7,
  queryConcurrency: 10,
  tracing: false,
  bucketVersioning: false,
};

/** Peak memory the query function takes per row of loaded outputs, and its base (see the README's query section). */
export { QUERY_BYTES_PER_ROW };
export const QUERY_BASE_MB = 160;

/** Reads and validates the context; every problem is named in one error. */
export function propsFromContext(node: Node): PipelineProps {
  const problems: string[] = [];
  const str = (key: string, fallback: string): string => {
    const v = node.tryGetContext(key) as unknown;
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || v === '') problems.push(`${key} must be a non-empty string`);
    return String(v);
  };
  const int = (key: string, fallback: number, min: number, max: number): number => {
    const raw = node.tryGetContext(key) as unknown;
    if (raw === undefined) return fallback;
    const v = Number(raw);
    if (!Number.isInteger(v) || v < min || v > max) problems.push(`${key} must be an integer from ${min} to ${max}, got '${String(raw)}'`);
    return v;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const raw = node.tryGetContext(key) as unknown;
    if (raw === undefined) return fallback;
    if (raw === true || raw === 'true') return true;
    if (raw === false || raw === 'false') return false;
    problems.push(`${key} must be true or false, got '${String(raw)}'`);
    return fallback;
  };
  const prefix = (key: string, fallback: string): string => {
    const v = str(key, fallback);
    if (!v.endsWith('/')) problems.push(`${key} must end with '/', got '${v}'`);
    return v;
  };
  const d = DEFAULTS;
  const bucketName = node.tryGetContext('bucketName') as string | undefined;
  const alarmEmail = node.tryGetContext('alarmEmail') as string | undefined;
  const props: PipelineProps = {
    inputPrefix: prefix('inputPrefix', d.inputPrefix),
    jobsPrefix: prefix('jobsPrefix', d.jobsPrefix),
    outputPrefix: prefix('outputPrefix', d.outputPrefix),
    shardRows: int('shardRows', d.shardRows, 1, 50_000_000),
    statsPartRows: int('statsPartRows', d.statsPartRows, 1_048_576, 1_000_000_000),
    memoryMb: {
      start: int('startMemoryMb', d.memoryMb.start, 128, 10_240),
      job: int('jobMemoryMb', d.memoryMb.job, 128, 10_240),
      stats: int('statsMemoryMb', d.memoryMb.stats, 128, 10_240),
      embed: int('embedMemoryMb', d.memoryMb.embed, 128, 10_240),
      reduce: int('reduceMemoryMb', d.memoryMb.reduce, 128, 10_240),
      query: int('queryMemoryMb', d.memoryMb.query, 128, 10_240),
    },
    timeoutSeconds: {
      start: int('startTimeoutSeconds', d.timeoutSeconds.start, 1, 900),
      job: int('jobTimeoutSeconds', d.timeoutSeconds.job, 1, 900),
      stats: int('statsTimeoutSeconds', d.timeoutSeconds.stats, 1, 900),
      embed: int('embedTimeoutSeconds', d.timeoutSeconds.embed, 1, 900),
      reduce: int('reduceTimeoutSeconds', d.timeoutSeconds.reduce, 1, 900),
      query: int('queryTimeoutSeconds', d.timeoutSeconds.query, 1, 900),
    },
    queryMaxRows: int('queryMaxRows', d.queryMaxRows, 1, 100_000_000),
    parquetOutput: bool('parquetOutput', d.parquetOutput),
    // Lambda's bounds: an execution runs at most 366 days and its history is kept 1 to 90 days.
    jobTimeoutMinutes: int('jobTimeoutMinutes', d.jobTimeoutMinutes, 1, 527_040),
    jobRetentionDays: int('jobRetentionDays', d.jobRetentionDays, 1, 90),
    invokeAttempts: int('invokeAttempts', d.invokeAttempts, 1, 20),
    retryDelaySeconds: int('retryDelaySeconds', d.retryDelaySeconds, 1, 3600),
    embedConcurrency: int('embedConcurrency', d.embedConcurrency, 0, 10_000),
    logRetentionDays: int('logRetentionDays', d.logRetentionDays, 1, 3653),
    jobsExpireDays: int('jobsExpireDays', d.jobsExpireDays, 1, 365),
    queryConcurrency: int('queryConcurrency', d.queryConcurrency, 0, 10_000),
    tracing: bool('tracing', d.tracing),
    bucketVersioning: bool('bucketVersioning', d.bucketVersioning),
  };
  if (bucketName !== undefined) props.bucketName = str('bucketName', '');
  if (alarmEmail !== undefined) props.alarmEmail = str('alarmEmail', '');
  const kmsKeyArn = node.tryGetContext('kmsKeyArn') as unknown;
  if (kmsKeyArn !== undefined) {
    props.kmsKeyArn = str('kmsKeyArn', '');
    if (!/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(props.kmsKeyArn))
      problems.push(`kmsKeyArn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), got '${props.kmsKeyArn}'`);
  }
  if (!RETENTION_DAYS.includes(props.logRetentionDays)) problems.push(`logRetentionDays must be one of ${RETENTION_DAYS.join(', ')}`);
  const { inputPrefix, jobsPrefix, outputPrefix } = props;
  if (outputPrefix.startsWith(inputPrefix) || inputPrefix.startsWith(outputPrefix))
    problems.push('outputPrefix and inputPrefix must not contain each other (outputs would trigger the pipeline again)');
  if (jobsPrefix.startsWith(inputPrefix) || inputPrefix.startsWith(jobsPrefix))
    problems.push('jobsPrefix and inputPrefix must not contain each other');
  const slowest = Math.max(props.timeoutSeconds.stats, props.timeoutSeconds.embed, props.timeoutSeconds.reduce);
  if (props.jobTimeoutMinutes * 60 <= slowest)
    problems.push(`jobTimeoutMinutes ${props.jobTimeoutMinutes} must outlast the slowest step (${slowest} s), or no job could finish`);
  const neededMb = Math.ceil((props.queryMaxRows * QUERY_BYTES_PER_ROW) / 2 ** 20) + QUERY_BASE_MB;
  if (props.memoryMb.query < neededMb)
    problems.push(`queryMaxRows ${props.queryMaxRows} needs queryMemoryMb of at least ${neededMb}, got ${props.memoryMb.query}`);
  if (problems.length > 0) throw new Error(`invalid context: ${problems.join('; ')}`);
  return props;
}
