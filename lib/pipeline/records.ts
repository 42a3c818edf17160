/** The records a serverless job writes to its store: the plans, shard records, the publish lock and the error. */
import type { FeatureSpec } from '../embedding/spec.ts';
import type { Shard, StatsPart, StatsTask } from '../embedding/shard-plan.ts';
import type { Manifest } from '../outputs/manifest.ts';
import type { IdIndexLayout } from '../outputs/id-index.ts';

/** The object an S3 event announced: one version of one key. */
export interface UploadedObject {
  key: string;
  etag: string;
}

/** What one execution of the job function is started with: the upload, and the job (its execution name). */
export interface JobInput extends UploadedObject {
  bucket: string;
  jobId: string;
  /** 0 for the first run of these bytes; one more for each run after a failed one. */
  generation: number;
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
  /**
   * How the id index is partitioned: shards then write their sorted id keys and row blocks, the
   * repeated-id pass and the index fan out over the partitions (absent, in a plan written before
   * them: the reducer finds repeats alone, and publishes no index).
   */
  idIndex?: IdIndexLayout;
  createdAt: string;
  timingsMs: Record<string, number>;
}

/** What a job's plan is made of besides its statistics. */
export type PlanInput = Omit<JobPlan, 'scaler' | 'shards' | 'createdAt' | 'timingsMs' | 'idIndex'> & {
  rowGroupRows: number[];
  /** Records per partition of the id index (absent: the default). */
  idPartitionRows?: number;
};

/** `stats.json`: written instead of the plan when the statistics fan out. */
export interface StatsPlan extends PlanInput {
  tasks: StatsTask[];
  parts: StatsPart[];
  createdAt: string;
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
  /** With the plan's id index: where each id partition starts in the shard's sorted keys (P + 1 byte offsets), and its row block's size. */
  keyOffsets?: number[];
  rowBlockBytes?: number;
  timingsMs: ShardTimings;
  /** Input bytes fetched for the shard. */
  bytesRead: number;
}

/** The publish lock of an output name: which job holds it, and until when its holder can possibly be alive (ms since the epoch). */
export interface PublishLock {
  jobId: string;
  until: number;
}

/** What error.json holds: which upload, which job, what went wrong. */
export interface JobError {
  jobId: string;
  input: { bucket: string; key: string; etag: string };
  /** The run of these bytes that failed (0: the first); a new upload or a redrive runs the next. */
  generation?: number;
  error: { type: string; message: string; shard?: number; statsPart?: number };
  at: string;
}
