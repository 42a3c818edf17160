/**
 * The protocol's second port: what a step starts next. Lambda's asynchronous invoke in the
 * stack; a recorder in the unit tests, so the steps' fan-out is testable without HTTP.
 */
import type { JobStore } from './job-store.ts';
import type { EmbedPayload, ReducePayload, StatsPartPayload, StatsStartPayload } from './payloads.ts';
import { mapLimit } from '../io/concurrency.ts';

export interface Invoker {
  stats(payload: StatsStartPayload): Promise<void>;
  embed(payload: EmbedPayload): Promise<void>;
  statsPart(payload: StatsPartPayload): Promise<void>;
  reduce(payload: ReducePayload): Promise<void>;
}

/** What a step needs: the job store, what it invokes next, and its clock and name. */
export interface StepContext {
  store: JobStore;
  invoker: Invoker;
  /** ms since the epoch; tests pass a clock they move instead of sleeping. */
  now?: () => number;
  /** This invocation's name on what it writes once, so a lost response is recognised as its own. */
  writer?: string;
  /** How long a claim, a lock or a job may go without progress before it is presumed lost. */
  stallMs?: number;
}

/** Three times Lambda's 15-minute limit (an async event's attempts) plus its retry delays (1 and 2 minutes). */
export const DEFAULT_STALL_MS = (3 * 15 + 3) * 60_000;

export const nowOf = (ctx: StepContext): number => (ctx.now ?? Date.now)();
export const stallOf = (ctx: StepContext): number => ctx.stallMs ?? DEFAULT_STALL_MS;

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
