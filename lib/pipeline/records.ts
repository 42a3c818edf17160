/** The plan of a serverless job: written once by the stats function, read by every shard and the reducer. */
import type { FeatureSpec } from '../embedding/spec.ts';
import type { Shard } from '../embedding/shard-plan.ts';
import type { Scaler } from '../embedding/stats.ts';
import type { Manifest } from '../outputs/manifest.ts';

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
  /** The fitted scaler as the manifest shows it (NaN as null); `reviveScaler` reads it back. */
  scaler: Manifest['scaler'];
  shardRows: number;
  shards: Shard[];
  createdAt: string;
  timingsMs: Record<string, number>;
}

const numbers = (xs: (number | null)[]) => xs.map((x) => (x === null ? NaN : x));

/** The scaler back from the plan, null read as NaN. */
export function reviveScaler(s: JobPlan['scaler']): Scaler {
  return { count: s.count, mean: numbers(s.mean), variance: numbers(s.variance), scale: numbers(s.scale) };
}
