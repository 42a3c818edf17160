/** The payloads of the job's invokes of the stats, embed and reduce functions: small whatever the file size. */

/** One statistics task for the stats function: both passes of a one-part file, or one part's sums or deviations. */
export type StatsPayload =
  | { bucket: string; jobId: string; task: 'whole' }
  | { bucket: string; jobId: string; task: 'moments'; part: number }
  | { bucket: string; jobId: string; task: 'deviations'; part: number; means: (number | null)[] };

/** One shard of a job, for the embed function. */
export interface EmbedPayload {
  bucket: string;
  jobId: string;
  shard: number;
}

/** One task of the repeated-id pass and the id index: a hash partition, or the rewrite of one shard's fragment. */
export type RepeatsPayload =
  | { bucket: string; jobId: string; task: 'index partition'; partition: number }
  | { bucket: string; jobId: string; task: 'rewrite fragment'; shard: number };

/** A job whose shards are all recorded, for the reduce function. */
export interface ReducePayload {
  bucket: string;
  jobId: string;
}

const isObject = (p: unknown): p is Record<string, unknown> => typeof p === 'object' && p !== null;
const isJob = (p: unknown): p is { bucket: string; jobId: string } & Record<string, unknown> =>
  isObject(p) && typeof p.bucket === 'string' && typeof p.jobId === 'string';

export const isEmbedPayload = (p: unknown): p is EmbedPayload => isJob(p) && Number.isInteger(p.shard);
export const isReducePayload = (p: unknown): p is ReducePayload => isJob(p) && !('shard' in p) && !('task' in p);
export function isStatsPayload(p: unknown): p is StatsPayload {
  if (!isJob(p)) return false;
  if (p.task === 'whole') return true;
  if (p.task === 'moments') return Number.isInteger(p.part);
  return p.task === 'deviations' && Number.isInteger(p.part) && Array.isArray(p.means);
}
