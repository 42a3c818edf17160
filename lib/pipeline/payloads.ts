/** The payloads of the pipeline's own async invocations: small whatever the file size. */

/** One shard of a job, for the embed function. */
export interface EmbedPayload {
  bucket: string;
  jobId: string;
  shard: number;
}

/** One part of a fanned-out statistics pass, for the stats function. */
export interface StatsPartPayload {
  bucket: string;
  jobId: string;
  statsPart: number;
}

/** A job whose shards are all done, for the reduce function. */
export interface ReducePayload {
  bucket: string;
  jobId: string;
}

/** An upload to (re)start, for the stats function: the reconciler's way in when its S3 event was lost. */
export interface StatsStartPayload {
  bucket: string;
  key: string;
  etag: string;
}

const isObject = (p: unknown): p is Record<string, unknown> => typeof p === 'object' && p !== null;

/** A job's bucket and id, plus an integer field naming the unit of work. */
function isJobPayload<K extends string>(p: unknown, unit: K): p is { bucket: string; jobId: string } & Record<K, number> {
  return isObject(p) && typeof p.bucket === 'string' && typeof p.jobId === 'string' && Number.isInteger(p[unit]);
}

export const isEmbedPayload = (p: unknown): p is EmbedPayload => isJobPayload(p, 'shard');
export const isStatsPartPayload = (p: unknown): p is StatsPartPayload => isJobPayload(p, 'statsPart');
export const isReducePayload = (p: unknown): p is ReducePayload =>
  isObject(p) && typeof p.bucket === 'string' && typeof p.jobId === 'string' && !('shard' in p) && !('statsPart' in p);
export const isStatsStartPayload = (p: unknown): p is StatsStartPayload =>
  isObject(p) && typeof p.bucket === 'string' && typeof p.key === 'string' && typeof p.etag === 'string' && !('Records' in p);
