/**
 * The usage each step invocation records for its job's cost (`jobs/<jobId>/work/usage/<step>-<requestId>.json`,
 * one small PUT, removed with the job's scratch), and the sum the reducer writes into the manifest.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { JobStore } from '../pipeline/job-store.ts';
import type { ContextLike } from '../observability/telemetry.ts';
import { jobCost, parseUsage, type InvocationUsage, type JobCost } from '../observability/cost.ts';
import { mapLimit } from '../io/concurrency.ts';
import { messageOf } from '../errors.ts';

const USAGE = 'usage/';
const READS = 16;

/** What one invocation used, from its Lambda context and its measured duration. */
export interface UsageOf {
  step: string;
  context: ContextLike;
  durationMs: number;
}

const record = (u: UsageOf): InvocationUsage => ({
  step: u.step,
  requestId: u.context.awsRequestId,
  memoryMb: Number(u.context.memoryLimitInMB),
  durationMs: Math.ceil(u.durationMs),
});

const nameOf = (u: InvocationUsage) => `${USAGE}${u.step}-${u.requestId.replace(/[^A-Za-z0-9-]/g, '_')}.json`;

/** Records the invocation's usage; a failure to is logged, never the step's failure. */
export async function recordUsage(store: JobStore, jobId: string, u: UsageOf, log: Logger): Promise<void> {
  const r = record(u);
  try {
    await store.writeWork(jobId, nameOf(r), new TextEncoder().encode(JSON.stringify(r)));
  } catch (e: unknown) {
    log.warn('could not record usage for the job cost', { problem: messageOf(e) });
  }
}

/** The job's cost so far: every recorded invocation, plus `current` (the reducer, which has not ended yet). */
export async function usageCost(store: JobStore, jobId: string, current?: UsageOf): Promise<JobCost> {
  const names = await store.listWork(jobId, USAGE);
  const mine = current ? record(current) : undefined;
  const others = mine ? names.filter((n) => n !== nameOf(mine)) : names;
  const read = await mapLimit(others, READS, async (n) => parseUsage(new TextDecoder().decode(await store.readWork(jobId, n))));
  const usage = read.filter((u): u is InvocationUsage => u !== null);
  return jobCost(mine ? [...usage, mine] : usage);
}
