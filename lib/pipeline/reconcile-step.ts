/**
 * The reconciler: a scheduled sweep that makes every job end, the way Step Functions redrives a
 * map run. It reads the index of unfinished jobs (never all of the jobs prefix):
 *   - a job that ended, or was superseded by a newer upload, leaves the index (scratch retired);
 *   - a job whose progress changed since the last sweep is noted and left alone;
 *   - a job with no progress for longer than the stall timeout has its unfinished work (shards,
 *     statistics parts, the reduce, or the statistics step) invoked again, at most `maxRedrives`
 *     times; after that it fails with error.json naming what never finished.
 * Then it starts the uploads that have no job at all once they are older than the stall timeout
 * (their S3 event was lost): it lists the input prefix and looks at the objects modified since
 * its previous sweep's cutoff, so each upload is looked at once.
 * Idempotent, and safe to run twice at once: the worst a race does is invoke some work twice.
 */
import type { StepContext } from './invoker.ts';
import type { ActiveJob } from './records.ts';
import { nowOf, stallOf } from './invoker.ts';
import { advance, jobStage, progressOf, unfinishedOf } from './advance.ts';

export interface ReconcileOptions {
  /** Redrives of one job before it is failed. */
  maxRedrives: number;
  /** How far back the first sweep looks for uploads without a job. */
  firstLookbackMs?: number;
}

export type JobAction = 'ended' | 'progressing' | 'waiting' | 'redriven' | 'failed' | 'error';

export interface ReconcileReport {
  jobs: { jobId: string; key: string; action: JobAction; progress: string; invoked?: string[]; message?: string }[];
  /** Uploads that had no job: their stats step was invoked. */
  started: string[];
}

export const DEFAULT_MAX_REDRIVES = 3;
const DAY_MS = 24 * 60 * 60 * 1000;

/** One sweep over the index and the recent uploads. */
export async function reconcile(ctx: StepContext, opts: ReconcileOptions): Promise<ReconcileReport> {
  const report: ReconcileReport = { jobs: [], started: [] };
  const errors: unknown[] = [];
  for (const jobId of await ctx.store.activeJobIds()) {
    const entry = await ctx.store.readActive(jobId);
    if (!entry) continue;
    // One job's trouble (a throttled S3 call) must not stop the sweep of the others.
    try {
      report.jobs.push(await sweepJob(ctx, entry, opts));
    } catch (e: unknown) {
      errors.push(e);
      report.jobs.push({
        jobId,
        key: entry.key,
        action: 'error',
        progress: entry.progress,
        message: e instanceof Error ? e.message : String(e),
      });
    }
  }
  report.started = await startLostUploads(ctx, opts);
  // Reported as the sweep's failure (an alarm), after every job had its turn; the next sweep retries.
  if (errors.length > 0)
    throw new AggregateError(
      errors,
      `reconciler: ${errors.length} job(s) could not be swept: ${report.jobs
        .filter((j) => j.action === 'error')
        .map((j) => `${j.jobId}: ${j.message}`)
        .join('; ')}`,
    );
  return report;
}

/** What the sweep does with one unfinished job. */
async function sweepJob(ctx: StepContext, entry: ActiveJob, opts: ReconcileOptions): Promise<ReconcileReport['jobs'][number]> {
  const { store } = ctx;
  const now = nowOf(ctx);
  const stage = await jobStage(store, entry, entry.jobId);
  const progress = progressOf(stage);
  const line = { jobId: entry.jobId, key: entry.key, progress };
  if (stage.stage === 'published' || stage.stage === 'failed' || stage.stage === 'superseded') {
    await store.retire(entry.jobId);
    return { ...line, action: 'ended' };
  }
  if (progress !== entry.progress) {
    await store.saveActive({ ...entry, progress, progressAt: now });
    return { ...line, action: 'progressing' };
  }
  if (now - entry.progressAt <= stallOf(ctx)) return { ...line, action: 'waiting' };
  if (entry.redrives < opts.maxRedrives) {
    const invoked = await advance(ctx, entry, entry.jobId, stage);
    await store.saveActive({ ...entry, redrives: entry.redrives + 1, progressAt: now, lastRedrive: { at: now, invoked } });
    return { ...line, action: 'redriven', invoked };
  }
  const message =
    `${store.url(entry.key)}: job ${entry.jobId}: ${unfinishedOf(stage)} did not finish after ${entry.redrives} redrive(s) ` +
    `(no progress since ${new Date(entry.progressAt).toISOString()})`;
  await store.writeError(entry, entry.jobId, { type: 'JobStalled', message });
  await store.retire(entry.jobId);
  return { ...line, action: 'failed', message };
}

/** Invokes stats for uploads older than the stall timeout that have no job (their event was lost). */
async function startLostUploads(ctx: StepContext, opts: ReconcileOptions): Promise<string[]> {
  const { store } = ctx;
  const now = nowOf(ctx);
  const upTo = now - stallOf(ctx);
  const from = (await store.readSweep())?.cutoff ?? now - (opts.firstLookbackMs ?? DAY_MS);
  const started: string[] = [];
  for (const upload of await store.listUploads()) {
    if (upload.lastModified <= from || upload.lastModified > upTo) continue;
    const etag = await store.currentEtag(upload.key);
    if (!etag) continue;
    const obj = { key: upload.key, etag };
    const jobId = store.jobIdOf(obj);
    const known =
      (await store.readActive(jobId)) ||
      (await store.hasPlan(jobId)) ||
      (await store.hasStatsPlan(jobId)) ||
      (await store.ending(obj, jobId));
    if (known) continue;
    await ctx.invoker.stats({ bucket: store.bucket, ...obj });
    started.push(upload.key);
  }
  // Only after every start: a sweep that dies looks at the same window again.
  if (upTo > from) await store.writeSweep({ cutoff: upTo });
  return started;
}

/** Redrives one job by hand (`npm run redrive`): its unfinished work, counted as a redrive. */
export async function redrive(
  ctx: StepContext,
  upload: { key: string; etag: string },
): Promise<{ jobId: string; stage: string; invoked: string[] }> {
  const { store } = ctx;
  const jobId = store.jobIdOf(upload);
  const stage = await jobStage(store, upload, jobId);
  const invoked = await advance(ctx, upload, jobId, stage);
  const entry = await store.readActive(jobId);
  if (entry && invoked.length > 0) {
    const now = nowOf(ctx);
    await store.saveActive({ ...entry, redrives: entry.redrives + 1, progressAt: now, lastRedrive: { at: now, invoked } });
  }
  return { jobId, stage: progressOf(stage), invoked };
}
