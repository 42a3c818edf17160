/** The plan of a serverless job: written once by the stats function, read by every shard and the reducer. */
import type { FeatureSpec } from './feature-spec.ts';
import type { Shard } from './shard-plan.ts';
import type { Scaler } from './stats.ts';

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
  /** The fitted scaler; JSON keeps NaN as null, see `reviveScaler`. */
  scaler: { count: number[]; mean: (number | null)[]; variance: (number | null)[]; scale: (number | null)[] };
  shardRows: number;
  shards: Shard[];
  createdAt: string;
  timingsMs: Record<string, number>;
}

const nullable = (xs: number[]) => xs.map((x) => (Number.isFinite(x) ? x : null));
const numbers = (xs: (number | null)[]) => xs.map((x) => (x === null ? NaN : x));

/** The scaler as the plan stores it. */
export function storeScaler(s: Scaler): JobPlan['scaler'] {
  return { count: s.count, mean: nullable(s.mean), variance: nullable(s.variance), scale: nullable(s.scale) };
}

/** The scaler back from the plan, null read as NaN. */
export function reviveScaler(s: JobPlan['scaler']): Scaler {
  return { count: s.count, mean: numbers(s.mean), variance: numbers(s.variance), scale: numbers(s.scale) };
}
