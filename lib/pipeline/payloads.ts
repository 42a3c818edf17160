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

/** A job's bucket and id, plus an integer field naming the unit of work. */
function isJobPayload<K extends string>(p: unknown, unit: K): p is { bucket: string; jobId: string } & Record<K, number> {
  const o = p as Record<string, unknown> | null;
  return typeof o === 'object' && o !== null && typeof o.bucket === 'string' && typeof o.jobId === 'string' && Number.isInteger(o[unit]);
}

export const isEmbedPayload = (p: unknown): p is EmbedPayload => isJobPayload(p, 'shard');
export const isStatsPartPayload = (p: unknown): p is StatsPartPayload => isJobPayload(p, 'statsPart');
