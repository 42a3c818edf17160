/** The records a serverless job writes to its store: the plans, shard markers and the error. */
import type { FeatureSpec } from '../embedding/spec.ts';
import type { Shard, StatsPart, StatsTask } from '../embedding/shard-plan.ts';
import type { Manifest } from '../outputs/manifest.ts';

/** The object an S3 event announced: one version of one key. */
export interface UploadedObject {
  key: string;
  etag: string;
}

/** The plan of a job: written once by the stats step, read by every shard and the reducer. */
export interface JobPlan {
  version: 1;
  jobId: string;
  bucket: string;
  key: string;
  etag: string;
  bytes: number;
  /** Outputs go to `<output prefix><name>/`. */
  name: string;
  rows: number;
  rowGroups: number;
  createdBy: string | null;
  spec: FeatureSpec;
  /** The fitted scaler as the manifest shows it (NaN as null); `scalerFromSection` (outputs/manifest.ts) reads it back. */
  scaler: Manifest['scaler'];
  shardRows: number;
  /** The shards also write their rows as Parquet, and the reducer publishes them as parts (absent: no). */
  parquet?: boolean;
  shards: Shard[];
  createdAt: string;
  timingsMs: Record<string, number>;
  /** The invocation that wrote it: a lost response to the write-once PUT is recognised by it. */
  writer?: string;
}

/** What a job's plan is made of besides its statistics. */
export type PlanInput = Omit<JobPlan, 'scaler' | 'shards' | 'createdAt' | 'timingsMs'> & { rowGroupRows: number[] };

/** `stats.json`: written instead of the plan when the statistics fan out. */
export interface StatsPlan extends PlanInput {
  tasks: StatsTask[];
  parts: StatsPart[];
  createdAt: string;
  writer?: string;
}

/** Where a shard's time went: ranged GETs, Parquet decoding, the embedding and mapping, the puts. */
export interface ShardTimings {
  read: number;
  decode: number;
  embed: number;
  write: number;
}

/** What a shard's done marker records: enough for the reducer to stitch without listing sizes. */
export interface ShardDone {
  shard: number;
  rows: number;
  vectorBytes: number;
  idBytes: number;
  /** The size of the shard's Parquet part, when the plan asks for one. */
  parquetBytes?: number;
  timingsMs: ShardTimings;
  /** Input bytes fetched for the shard. */
  bytesRead: number;
}

/** A job's entry in the index of unfinished jobs (`jobs/active/<jobId>`), which the reconciler sweeps. */
export interface ActiveJob {
  jobId: string;
  bucket: string;
  key: string;
  etag: string;
  startedAt: number;
  /** What the job had done when the reconciler last looked ("shards 17/96"), and since when. */
  progress: string;
  progressAt: number;
  /** How many times the reconciler (or a person) re-invoked its unfinished work. */
  redrives: number;
  lastRedrive?: { at: number; invoked: string[] };
}

/** The reduce claim and the publish lock: who holds them, since when (ms since the epoch). */
export interface Holder {
  jobId: string;
  writer: string;
  at: number;
}

/** What error.json holds: which upload, which job, what went wrong. */
export interface JobError {
  jobId: string;
  input: { bucket: string; key: string; etag: string };
  error: { type: string; message: string; shard?: number; statsPart?: number };
  at: string;
}
