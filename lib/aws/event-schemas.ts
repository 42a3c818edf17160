/**
 * The schemas of the events the step functions take, as small checks that name the first field
 * that is wrong and what it should be, and never echo what was sent (an event may carry anything).
 * The payloads are the job's (lib/pipeline/payloads.ts) plus what the job adds for the logs: the
 * upload's key and ETag, and which attempt of the invoke this is.
 */
import type { EmbedPayload, ReducePayload, RepeatsPayload, StatsPayload } from '../pipeline/payloads.ts';

/** The fields every step payload carries. */
export interface JobRef {
  bucket: string;
  jobId: string;
  key?: string;
  etag?: string;
  attempt?: number;
}

type Fields = Record<string, unknown>;
const MAX_TEXT = 1024;

const isText = (v: unknown, max = MAX_TEXT) => typeof v === 'string' && v !== '' && v.length <= max;
const isIndex = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The problem with a payload's common fields, or null. */
function jobRefProblem(e: unknown, allowed: readonly string[]): string | null {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return 'the event must be a JSON object';
  const f = e as Fields;
  const extra = Object.keys(f).filter((k) => !allowed.includes(k));
  if (extra.length > 0) return `the event has ${extra.length} field(s) this function does not take (it takes ${allowed.join(', ')})`;
  if (!isText(f.bucket, 63)) return "'bucket' must be a bucket name";
  if (!isText(f.jobId, 200)) return "'jobId' must be a job id";
  if (f.key !== undefined && !isText(f.key)) return "'key' must be an object key";
  if (f.etag !== undefined && !isText(f.etag, 200)) return "'etag' must be an ETag";
  if (f.attempt !== undefined && !(isIndex(f.attempt) && (f.attempt as number) >= 1)) return "'attempt' must be a positive integer";
  return null;
}

const COMMON = ['bucket', 'jobId', 'key', 'etag', 'attempt'];

/** Why `e` is not an embed payload, or null. */
export function embedProblem(e: unknown): string | null {
  const p = jobRefProblem(e, [...COMMON, 'shard']);
  if (p) return p;
  return isIndex((e as Fields).shard) ? null : "'shard' must be a shard index (an integer from 0)";
}

/** Why `e` is not a reduce payload or a task of the repeated-id pass (which the reduce function serves), or null. */
export function reduceProblem(e: unknown): string | null {
  const p = jobRefProblem(e, [...COMMON, 'task', 'partition', 'shard']);
  if (p) return p;
  const f = e as Fields;
  if (f.task === undefined) return f.partition === undefined && f.shard === undefined ? null : "a reduce takes no 'partition' or 'shard'";
  if (f.task === 'index partition')
    return isIndex(f.partition) && f.shard === undefined ? null : "task 'index partition' takes a 'partition' index (an integer from 0)";
  if (f.task === 'rewrite fragment')
    return isIndex(f.shard) && f.partition === undefined ? null : "task 'rewrite fragment' takes a 'shard' index (an integer from 0)";
  return "'task' must be one of index partition, rewrite fragment (or absent, for the reduce)";
}

/** Why `e` is not a stats payload, or null. */
export function statsProblem(e: unknown): string | null {
  const p = jobRefProblem(e, [...COMMON, 'task', 'part', 'means']);
  if (p) return p;
  const f = e as Fields;
  if (f.task === 'whole') return f.part === undefined && f.means === undefined ? null : "task 'whole' takes no 'part' or 'means'";
  if (f.task !== 'moments' && f.task !== 'deviations') return "'task' must be one of whole, moments, deviations";
  if (!isIndex(f.part)) return "'part' must be a part index (an integer from 0)";
  if (f.task === 'moments') return f.means === undefined ? null : "task 'moments' takes no 'means'";
  const means = f.means;
  if (!Array.isArray(means) || !means.every((m) => m === null || typeof m === 'number'))
    return "'means' must be a list of numbers (null for a column of no values)";
  return null;
}

/** Why `e` is not the job function's input (what start sends), or null. */
export function jobInputProblem(e: unknown): string | null {
  const p = jobRefProblem(e, ['bucket', 'key', 'etag', 'jobId', 'generation']);
  if (p) return p;
  const f = e as Fields;
  if (!isText(f.key)) return "'key' must be an object key";
  if (!isText(f.etag, 200)) return "'etag' must be an ETag";
  return isIndex(f.generation) ? null : "'generation' must be an integer from 0";
}

// The checks above accept exactly the job's payloads (plus the log fields): a compile-time reminder.
export type Checked = (EmbedPayload | ReducePayload | RepeatsPayload | StatsPayload) & JobRef;
