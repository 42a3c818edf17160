/**
 * One simulated job, end to end: the real durable handler (lib/pipeline/job.ts `jobWorkflow`)
 * over the real JobStore, against simulated S3, Lambda and engine in virtual time, on an input
 * whose footer is real and whose data is not there. What it returns is what the report prints.
 */
import type { Platform } from './figures.ts';
import type { Invocation } from './sim-lambda.ts';
import type { Operation } from './sim-engine.ts';
import type { PrefixCount } from './sim-s3.ts';
import { AWS, CALIBRATION, JOB_MEMORY_MB, MEMORY_MB } from './figures.ts';
import { Clock, SharedRate } from './clock.ts';
import { SimBucket } from './sim-s3.ts';
import { SimLambda } from './sim-lambda.ts';
import { SimEngine } from './sim-engine.ts';
import { simFunctions } from './functions.ts';
import { syntheticInput, templateMetadata } from './synthetic-input.ts';
import { jobWorkflow } from '../pipeline/job.ts';
import { JobStore } from '../pipeline/job-store.ts';
import { DEFAULT_PREFIXES, jobIdFor, outputKeys } from '../pipeline/keys.ts';
import { JOB_DEFAULTS } from '../aws/config.ts';
import { DEFAULT_MAX_SHARD_ROWS, DEFAULT_STATS_PART_ROWS } from '../embedding/shard-plan.ts';
import { DEFAULT_ROW_GROUP_SIZE } from '../generate/write-parquet.ts';
import { MAPPING_FILE } from '../outputs/file-names.ts';
import { pipelineIdPartitionRows } from '../outputs/id-index.ts';
import type { JobError } from '../pipeline/records.ts';
import { messageOf } from '../errors.ts';

export interface SimulateOptions {
  rows: number;
  /** Fraction of ids that repeat an earlier one. */
  repeats?: number;
  /** The job's map concurrency (the stack's embedConcurrency). */
  concurrency?: number;
  platform?: Platform;
  shardRows?: number;
  statsPartRows?: number;
  /** Records per id partition (JobSettings.idPartitionRows). */
  idPartitionRows?: number;
  rowGroupRows?: number;
  memoryMb?: number;
  /** A template footer (templateMetadata()); made once when absent. */
  template?: Uint8Array;
}

export interface SimResult {
  options: Required<Omit<SimulateOptions, 'template' | 'platform'>> & { platform: Platform['name'] };
  status: string;
  error?: string;
  /** error.json, when the job wrote one. */
  errorJson?: JobError;
  wallMs: number;
  /** The job's own operations, in order: the critical path, phase by phase. */
  phases: Operation[];
  operations: Operation[];
  invocations: Invocation[];
  prefixes: Map<string, PrefixCount>;
  checkpoints: number;
  harnessMs: number;
}

let template: Promise<Uint8Array> | null = null;

/** Runs one job of `rows` rows in virtual time. */
export async function simulate(o: SimulateOptions): Promise<SimResult> {
  const platform = o.platform ?? AWS;
  const opts = {
    rows: o.rows,
    repeats: o.repeats ?? 0,
    concurrency: o.concurrency ?? JOB_DEFAULTS.concurrency,
    shardRows: o.shardRows ?? DEFAULT_MAX_SHARD_ROWS,
    statsPartRows: o.statsPartRows ?? DEFAULT_STATS_PART_ROWS,
    idPartitionRows: o.idPartitionRows ?? pipelineIdPartitionRows(o.rows),
    rowGroupRows: o.rowGroupRows ?? DEFAULT_ROW_GROUP_SIZE,
    memoryMb: o.memoryMb ?? MEMORY_MB.value,
    platform: platform.name,
  };
  const meta = o.template ?? (await (template ??= templateMetadata()));
  const groups: number[] = [];
  for (let left = opts.rows; left > 0; left -= opts.rowGroupRows) groups.push(Math.min(left, opts.rowGroupRows));
  const input = syntheticInput(meta, groups, CALIBRATION.inputBytesPerRow.value);

  const clock = new Clock();
  const bucket = new SimBucket(clock, platform);
  const lambda = new SimLambda(clock, bucket, platform, simFunctions({ repeats: opts.repeats, memoryMb: opts.memoryMb }));
  const engine = new SimEngine(clock, lambda, platform);
  const key = `${DEFAULT_PREFIXES.input}tracks.parquet`;
  const orchestratorNet = new SharedRate(clock, platform.s3.callerMBps.value * 1e3, platform.s3.connectionMBps.value * 1e3);
  const workflow = jobWorkflow((_b) => new JobStore(bucket.client(orchestratorNet), DEFAULT_PREFIXES), {
    statsFunction: 'stats',
    embedFunction: 'embed',
    reduceFunction: 'reduce',
    shardRows: opts.shardRows,
    statsPartRows: opts.statsPartRows,
    idPartitionRows: opts.idPartitionRows,
    parquet: false,
    concurrency: opts.concurrency,
    attempts: JOB_DEFAULTS.attempts,
    retryDelaySeconds: JOB_DEFAULTS.retryDelaySeconds,
    publishLeaseMs: JOB_DEFAULTS.publishLeaseSeconds * 1000,
  });

  let status = 'failed';
  let error: string | undefined;
  let jobStart = 0;
  let jobEnd = 0;
  await clock.run(async () => {
    const objects = bucket.client(orchestratorNet);
    // pipeline-local starts moto and uploads the file; on AWS the upload is before the job.
    await clock.sleep(platform.harness.startS.value * 1000);
    let etag: string;
    if (platform.name === 'local') {
      await bucket.request('PUT', key, input.size, orchestratorNet, 'in');
      etag = bucket.place(key, input.size, input.tail);
    } else etag = bucket.place(key, input.size, input.tail);
    jobStart = clock.now;
    const job = { bucket: bucket.name, key, etag, jobId: jobIdFor(bucket.name, key, etag), generation: 0 };
    try {
      const r = await workflow(job, engine.context());
      status = r.status;
    } catch (e: unknown) {
      status = 'failed';
      error = messageOf(e);
    }
    jobEnd = clock.now;
    if (platform.name === 'local' && status === 'published') {
      // The command downloads the outputs.
      const out = outputKeys('tracks');
      for (const file of ['spotify_vectors_14d.npy', MAPPING_FILE, 'manifest.json']) {
        const size = bucket.objects.get(out.file(file))?.size ?? 0;
        await bucket.request('GET', out.file(file), size, orchestratorNet, 'out');
      }
      void objects;
    }
  });
  const harnessMs = clock.now - (jobEnd - jobStart);
  const errorBody = bucket.objects.get(outputKeys('tracks').error)?.body;
  const errorJson = errorBody ? (JSON.parse(new TextDecoder().decode(errorBody)) as JobError) : undefined;
  return {
    options: opts,
    status,
    ...(error !== undefined && { error }),
    ...(errorJson && { errorJson }),
    wallMs: clock.now,
    phases: engine.operations.filter((op) => op.depth === 0),
    operations: engine.operations,
    invocations: lambda.invocations,
    prefixes: bucket.prefixes,
    checkpoints: engine.checkpoints,
    harnessMs,
  };
}

/** GB-s of the functions' invocations, and of the job function while it checkpoints (it is suspended otherwise). */
export function gbSeconds(r: SimResult, platform: Platform): { steps: number; job: number } {
  const steps = r.invocations.reduce((n, i) => n + ((i.end - i.start) / 1000) * (r.options.memoryMb / 1024), 0);
  const job = (r.checkpoints * platform.engine.checkpointMs.value * JOB_MEMORY_MB.value) / 1024 / 1000;
  return { steps, job };
}
