/**
 * A job, as Lambda's durable execution engine runs it: one execution per upload, named by its
 * job id. This page is the whole orchestration; each step's work lives in the modules it calls,
 * which neither know nor care that they are checkpointed. The console lists, in order:
 *
 *   check the upload                 footer, schema, statistics plan          (step)
 *   statistics                       one part: both passes                    (invoke stats)
 *     or statistics: sums            one invoke of stats per part             (map)
 *        statistics: means           the merged means                         (step)
 *        statistics: deviations      one invoke of stats per part             (map)
 *        statistics: scaler and shards  the fitted scaler, the shard plan     (step)
 *   embed shards                     one invoke of embed per shard            (map, bounded)
 *   repeated ids: key directory      every shard's partition offsets, one object (step)
 *   repeated ids: index partitions   one invoke per hash partition: its piece of the id index
 *                                    and its repeated ids                     (map, bounded)
 *   repeated ids: combine            which shards' fragments change           (step)
 *   repeated ids: rewrite fragments  one invoke per such shard, when ids repeat (map, bounded)
 *   take the publish lock            one job at a time publishes a name       (wait for condition)
 *   reduce and publish               stitch, manifest last                    (invoke reduce)
 *   release the publish lock                                                  (step)
 *   clean up                         the job's scratch                        (step)
 *   record the failure               error.json, when anything above failed   (step)
 *
 * Retries with backoff are the engine's (`retryStrategy` on steps, `withRetry` around invokes,
 * whose SDK call has no retry of its own); a job that fails for good ends with error.json and a
 * FAILED execution; a job whose input was replaced meanwhile ends SUCCEEDED as superseded.
 */
import { createRetryStrategy, withRetry, type BatchResult, type DurableContext } from '@aws/durable-execution-sdk-js';
import type { JobStore, LockAttempt } from './job-store.ts';
import type { JobError, JobInput } from './records.ts';
import type { EmbedOutcome } from './embed-step.ts';
import type { ReduceOutcome } from './reduce-step.ts';
import type { EmbedPayload, ReducePayload, RepeatsPayload, StatsPayload } from './payloads.ts';
import type { PartitionOutcome } from './repeats-step.ts';
import type { FunctionLimits } from './plan-limits.ts';
import { combineIndex, writeKeyDirectory } from './repeats-step.ts';
import { checkUpload, finishStats, mergeMeans, type PlanSummary, type Rejected } from './stats-step.ts';
import { endUnpublished } from './job-end.ts';
import { PipelineError, messageOf } from '../errors.ts';

/** What a job needs besides its input: the functions it invokes and how hard it tries. */
export interface JobSettings {
  statsFunction: string;
  embedFunction: string;
  reduceFunction: string;
  /** Runs the repeated-id pass's tasks; absent, the reduce function does (it serves both). */
  repeatsFunction?: string;
  shardRows: number;
  /** Records per partition of the id index and the repeated-id pass (absent: the default, pipelineIdPartitionRows). */
  idPartitionRows?: number;
  /** The functions' timeouts and memory, which a plan must fit (absent: the stack's defaults). */
  limits?: FunctionLimits;
  statsPartRows: number;
  parquet: boolean;
  /** Invokes a map has in flight at once (shards, statistics parts). */
  concurrency: number;
  /** Attempts of every step and invoke. */
  attempts: number;
  /** Before the first retry; doubles with each (at most 5 minutes). */
  retryDelaySeconds: number;
  /** How long a publish lock outlives its holder's execution at most (execution timeout + reduce timeout). */
  publishLeaseMs: number;
}

export type JobResult = { status: 'published'; jobId: string; rows: number; shards: number } | { status: 'superseded'; jobId: string };

/** The job failed for good; its error.json says the same. What the FAILED execution shows. */
export class JobFailedError extends PipelineError {
  override name = 'JobFailedError';
}

/** A statistics task found bad input (the stats function answers `rejected` rather than throw). */
class Refused extends PipelineError {
  constructor(readonly rejected: Rejected) {
    super(rejected.message);
    this.name = rejected.type;
  }
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** What a read pinned to the input's ETag says once the input was replaced (S3, and the memory store). */
const INPUT_CHANGED = / changed while (it was )?being read|: the object changed \(ETag /;

/** The durable handler's body: `withDurableExecution(jobWorkflow(...))`. */
export function jobWorkflow(storeOf: (bucket: string) => JobStore, s: JobSettings) {
  const backoff = createRetryStrategy({
    maxAttempts: s.attempts,
    initialDelay: { seconds: s.retryDelaySeconds },
    maxDelay: { minutes: 5 },
    backoffRate: 2,
  });
  // Bad input is refused, not retried: the step answers `rejected` instead of throwing. An input
  // replaced under the job will not change back: no retry either (the job then ends superseded).
  const retryStrategy = (error: Error, attempt: number) =>
    INPUT_CHANGED.test(error.message) ? { shouldRetry: false } : backoff(error, attempt);
  return async (job: JobInput, ctx: DurableContext): Promise<JobResult> => {
    const store = storeOf(job.bucket);
    const { bucket, jobId } = job;
    // The operation under way, for error.json ("statistics failed after 3 attempt(s): …"); set the same on replay.
    let stage = 'the job';
    const step = <T>(name: string, work: () => Promise<T>) => {
      stage = name;
      return ctx.step(name, work, { retryStrategy });
    };
    const invoke = <I extends object, O>(c: DurableContext, name: string, fn: string, payload: I) => {
      if (c === ctx) stage = name;
      // The upload and the attempt ride along for the step's log lines and its Retries metric.
      const logged = (attempt: number) => ({ ...payload, key: job.key, etag: job.etag, attempt });
      return withRetry(c, name, (cc, attempt) => cc.invoke(`${name}, attempt ${attempt}`, fn, logged(attempt)) as Promise<O>, {
        retryStrategy,
      });
    };
    // Every item runs to its end, failed or not. The engine's default fails fast: the map returns at
    // the first failure while the invocations it started still run, and those then write into the
    // scratch the job's failure has just removed (and bill a job that has ended).
    const fanOut = <O>(name: string, n: number, item: string, call: (c: DurableContext, i: number) => Promise<O>) => {
      stage = name;
      return ctx.map(name, range(n), (c, i) => call(c, i), {
        maxConcurrency: s.concurrency,
        itemNamer: (_, i) => `${item} ${i}`,
        completionConfig: { toleratedFailurePercentage: 100 },
      });
    };

    try {
      const checked = await step('check the upload', () =>
        checkUpload(store, job, {
          shardRows: s.shardRows,
          statsPartRows: s.statsPartRows,
          parquet: s.parquet,
          ...(s.idPartitionRows !== undefined && { idPartitionRows: s.idPartitionRows }),
          ...(s.limits && { limits: s.limits }),
        }),
      );
      if (checked.status === 'rejected') throw new Refused(checked);

      let planned: PlanSummary | Rejected;
      if (checked.parts === 1) {
        planned = await invoke<StatsPayload, PlanSummary | Rejected>(ctx, 'statistics', s.statsFunction, { bucket, jobId, task: 'whole' });
      } else {
        // Both passes over the parts alike: one stats invoke per part, a part's refusal the job's.
        const pass = async (name: string, what: string, task: (part: number) => StatsPayload) =>
          refuseIfAny(
            await fanOut(name, checked.parts, 'part', (c, part) =>
              invoke<StatsPayload, { status: 'done' } | Rejected>(c, `${what} of part ${part}`, s.statsFunction, task(part)),
            ),
            'statistics part',
            checked.parts,
            s.attempts,
          );
        await pass('statistics: sums', 'sums', (part) => ({ bucket, jobId, task: 'moments', part }));
        const means = await step('statistics: means', () => mergeMeans(store, jobId));
        await pass('statistics: deviations', 'deviations', (part) => ({ bucket, jobId, task: 'deviations', part, means }));
        planned = await step('statistics: scaler and shards', () => finishStats(store, jobId));
      }
      if (planned.status === 'rejected') throw new Refused(planned);

      const embed = (c: DurableContext, shard: number) =>
        invoke<EmbedPayload, EmbedOutcome>(c, `embed shard ${shard}`, s.embedFunction, { bucket, jobId, shard });
      refuseIfAny(await fanOut('embed shards', planned.shards, 'shard', embed), 'shard', planned.shards, s.attempts);

      if (planned.idPartitions) {
        // Over hash partitions, so that no invocation holds every id; then only the shards a repeat touches.
        const repeats = s.repeatsFunction ?? s.reduceFunction;
        const P = planned.idPartitions;
        await step('repeated ids: key directory', () => writeKeyDirectory(store, jobId));
        const indexed = await fanOut('repeated ids: index partitions', P, 'partition', (c, partition) =>
          invoke<RepeatsPayload, PartitionOutcome>(c, `index partition ${partition}`, repeats, {
            bucket,
            jobId,
            task: 'index partition',
            partition,
          }),
        );
        refuseIfAny(indexed, 'id partition', P, s.attempts);
        const outcomes = indexed.all.map((item) => item.result as PartitionOutcome);
        const summary = await step('repeated ids: combine', () => combineIndex(store, jobId, outcomes));
        if (summary.rewrite.length > 0) {
          const rewrite = summary.rewrite;
          const rewritten = await fanOut('repeated ids: rewrite fragments', rewrite.length, 'shard', (c, i) =>
            invoke<RepeatsPayload, { shard: number; bytes: number }>(c, `rewrite fragment ${rewrite[i]}`, repeats, {
              bucket,
              jobId,
              task: 'rewrite fragment',
              shard: rewrite[i]!,
            }),
          );
          refuseIfAny(rewritten, 'fragment rewrite', rewrite.length, s.attempts);
        }
      }

      let reduced: ReduceOutcome;
      // Released whatever happens once taking it began (a lost response may have left it ours).
      try {
        stage = 'take the publish lock';
        await takePublishLock(ctx, store, planned.name, jobId, s);
        reduced = await invoke<ReducePayload, ReduceOutcome>(ctx, 'reduce and publish', s.reduceFunction, { bucket, jobId });
      } finally {
        // A failure above is recorded as that stage's, not the release's.
        const failedAt = stage;
        await step('release the publish lock', () => store.releasePublishLock(planned.name, jobId));
        stage = failedAt;
      }
      // Gone rather than replaced: no newer job will publish, so this one fails, saying so.
      if (reduced.status === 'superseded' && reduced.currentEtag === null) throw new PipelineError('the input no longer exists');
      await step('clean up', () => store.retire(jobId));
      if (reduced.status === 'superseded') return { status: 'superseded', jobId };
      return { status: 'published', jobId, rows: planned.rows, shards: planned.shards };
    } catch (e: unknown) {
      const cause = causeOf(e, `${store.url(job.key)}: job ${jobId}: `, stage, s.attempts);
      const ended = await step('record the failure', () => endUnpublished(store, job, cause));
      if (ended.ending === 'failed') throw new JobFailedError(ended.message);
      if (ended.ending === 'superseded') return { status: 'superseded', jobId };
      // Published after all: the failure came after the manifest (releasing the lock, say).
      await step('clean up after the failure', () => store.retire(jobId));
      return { status: 'published', jobId, rows: 0, shards: 0 };
    }
  };
}

/**
 * Waits, in the engine (no Lambda runs while it waits), until this job holds the output name's
 * publish lock; past the lease the lock of a holder whose execution has certainly ended is taken
 * over. Gives up after twice the lease: the job then fails with error.json, not a silent timeout.
 */
async function takePublishLock(ctx: DurableContext, store: JobStore, name: string, jobId: string, s: JobSettings): Promise<void> {
  type State = { held: boolean; holder: string; waitedSeconds: number };
  const limitSeconds = (2 * s.publishLeaseMs) / 1000;
  const delay = (attempt: number) => Math.min(60, 2 ** Math.min(attempt, 6));
  const state = await ctx.waitForCondition<State>(
    'take the publish lock',
    async (st, wc) => {
      const waited = st.waitedSeconds + (wc.attempt > 1 ? delay(wc.attempt - 1) : 0);
      // The engine does not retry a check that throws: an S3 error is one more wait, not the job's end.
      const got = await store
        .takePublishLock(name, jobId, Date.now(), s.publishLeaseMs)
        .catch((e: unknown): LockAttempt => ({ held: false, holder: `(unknown: ${messageOf(e)})` }));
      return got.held ? { ...st, held: true } : { held: false, holder: got.holder, waitedSeconds: waited };
    },
    {
      initialState: { held: false, holder: '', waitedSeconds: 0 },
      waitStrategy: (st, attempt) =>
        st.held || st.waitedSeconds >= limitSeconds
          ? { shouldContinue: false }
          : { shouldContinue: true, delay: { seconds: delay(attempt) } },
    },
  );
  if (!state.held)
    throw new PipelineError(`job ${jobId}: job ${state.holder} held the publish lock of '${name}' for over ${Math.round(limitSeconds)} s`);
}

/** Throws for the first item of a map that failed or was refused, naming it ("shard 3 of 20"). */
function refuseIfAny<T>(batch: BatchResult<T | Rejected | { status: string }>, what: string, of: number, attempts: number): void {
  for (const item of batch.all) {
    const r = item.result as Partial<Rejected> | undefined;
    if (r?.status === 'rejected') throw new Refused(r as Rejected);
  }
  const failed = batch.failed()[0];
  if (failed || batch.hasFailure) {
    const index = failed?.index ?? -1;
    const cause = failed?.error ? innermostMessage(failed.error) : 'failed';
    const message = `${what} ${index} of ${of} failed after ${attempts} attempt(s): ${cause}`;
    const at = what === 'shard' ? { shard: index } : what === 'statistics part' ? { statsPart: index } : {};
    throw new ItemFailed(message, at);
  }
}

/** An item of a map that failed after its retries. */
class ItemFailed extends PipelineError {
  override name = 'ItemFailed';
  constructor(
    message: string,
    readonly at: { shard?: number; statsPart?: number },
  ) {
    super(message);
  }
}

/** The innermost message of an error and its causes (the engine wraps: ChildContextError → InvokeError → the function's). */
function innermostMessage(e: unknown): string {
  let at: unknown = e;
  let message = messageOf(e);
  while (at instanceof Error && at.cause instanceof Error) {
    at = at.cause;
    if ((at as Error).message) message = (at as Error).message;
  }
  return message;
}

/**
 * What error.json says of a failure: the refusal as it was (it names the file); a map's item by
 * name; an operation that failed after its retries by name and attempts; else the error itself.
 */
function causeOf(e: unknown, where: string, stage: string, attempts: number): JobError['error'] {
  if (e instanceof Refused) return { type: e.rejected.type, message: e.rejected.message };
  if (e instanceof ItemFailed) return { type: 'StepFailed', message: `${where}${e.message}`, ...e.at };
  const name = e instanceof Error ? e.name : 'Error';
  if (name === 'StepError' || name === 'ChildContextError' || name === 'InvokeError')
    return { type: 'StepFailed', message: `${where}${stage} failed after ${attempts} attempt(s): ${innermostMessage(e)}` };
  return { type: name === 'Error' ? 'StepFailed' : name, message: `${where}${stage}: ${innermostMessage(e)}` };
}
