/**
 * The protocol's second port: what a step starts next. Lambda's asynchronous invoke in the
 * stack; a recorder in the unit tests, so the steps' fan-out is testable without HTTP.
 */
import type { JobStore } from './job-store.ts';
import type { EmbedPayload, ReducePayload, StatsPartPayload } from './payloads.ts';
import { mapLimit } from '../io/concurrency.ts';

export interface Invoker {
  embed(payload: EmbedPayload): Promise<void>;
  statsPart(payload: StatsPartPayload): Promise<void>;
  reduce(payload: ReducePayload): Promise<void>;
}

/** What a step needs: the job store and what it invokes next. */
export interface StepContext {
  store: JobStore;
  invoker: Invoker;
}

/** Invokes in flight at once when a step fans out. */
const FAN_OUT = 16;

/** One embed per shard index. */
export async function invokeShards(invoker: Invoker, bucket: string, jobId: string, shards: readonly number[]): Promise<void> {
  await mapLimit(shards, FAN_OUT, (shard) => invoker.embed({ bucket, jobId, shard }));
}

/** One stats part per part index. */
export async function invokeStatsParts(invoker: Invoker, bucket: string, jobId: string, parts: readonly number[]): Promise<void> {
  await mapLimit(parts, FAN_OUT, (statsPart) => invoker.statsPart({ bucket, jobId, statsPart }));
}
