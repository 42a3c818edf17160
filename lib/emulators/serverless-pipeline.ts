/**
 * The serverless pipeline on one machine: moto_server as S3, the local Lambda Invoke endpoint
 * serving the real handlers, the same S3 event the bucket would send. What it downloads is
 * byte-identical to what `npm start` writes.
 */
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Writable } from 'node:stream';
import { OutputFolder } from '../io/output-folder.ts';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { startMoto, s3ClientFor, LOCAL_REGION } from './moto.ts';
import { JOB_DEFAULTS, type JobConfig } from '../aws/config.ts';
import { startLocalStack } from './local-stack.ts';
import { JobStore } from '../pipeline/job-store.ts';
import { DEFAULT_PREFIXES, outputKeys, outputName } from '../pipeline/keys.ts';
import { eventBridgeObjectCreated } from '../aws/s3-event.ts';
import { jobStatus } from '../pipeline/status.ts';
import { s3Store } from '../aws/s3-store.ts';
import { DEFAULT_MAX_SHARD_ROWS, DEFAULT_STATS_PART_ROWS, planShards } from '../embedding/shard-plan.ts';
import { openFileSource } from '../io/file-source.ts';
import { readFooter } from '../parquet/footer.ts';
import { MANIFEST_FILE, MAPPING_FILE, PARQUET_DIR, isParquetPartFile } from '../outputs/file-names.ts';
import { PipelineError } from '../errors.ts';
import type { Manifest } from '../outputs/manifest.ts';

const BUCKET = 'track-embeddings-local';

/** The job's settings on one machine: the local functions' names, and retries a second apart instead of five. */
export const localJobSettings = {
  statsFunction: 'stats',
  embedFunction: 'embed',
  reduceFunction: 'reduce',
  concurrency: JOB_DEFAULTS.concurrency,
  attempts: JOB_DEFAULTS.attempts,
  retryDelaySeconds: 1,
  publishLeaseMs: JOB_DEFAULTS.publishLeaseSeconds * 1000,
};

export interface LocalPipelineOptions {
  input: string;
  outDir: string;
  shardRows?: number;
  /** Rows per stats part: a file with more rows computes its statistics in parts (fan-out). */
  statsPartRows?: number;
  /** Also publish (and download) the Parquet parts, one per shard, into `outDir/parquet/`. */
  parquet?: boolean;
  /** Called when a shard finishes, with the number of shards of the plan. */
  onProgress?: (shardsDone: number, shards: number) => void;
  /** Leave the S3 API and the Lambda endpoint running after the job, for `status` and `redrive` to look at. */
  keep?: boolean;
  /** Where the functions' JSON log lines and EMF metric blobs go (CloudWatch Logs' part on AWS); default nowhere. */
  logs?: Writable;
}

/** What `keep` leaves running: where it listens, and how to stop it. */
export interface KeptServices {
  s3Endpoint: string;
  lambdaEndpoint: string;
  region: string;
  bucket: string;
  key: string;
  close(): Promise<void>;
}

export interface LocalPipelineResult {
  manifest: Manifest;
  invocations: number;
  /** The job's durable execution: its name (the job id), how it ended, and its operations as the console lists them. */
  execution: { name: string; status: string; operations: string[] };
  /** Present when `keep` was asked for. */
  kept?: KeptServices;
}

/** Runs the whole serverless flow locally and downloads the outputs into `outDir`. */
export async function runPipelineLocal(opts: LocalPipelineOptions): Promise<LocalPipelineResult> {
  const body = await readFile(opts.input);
  const shards = await shardCount(opts.input, opts.shardRows ?? DEFAULT_MAX_SHARD_ROWS);
  const moto = await startMoto();
  const s3 = s3ClientFor(moto.endpoint);
  const config: JobConfig = {
    ...localJobSettings,
    shardRows: opts.shardRows ?? DEFAULT_MAX_SHARD_ROWS,
    statsPartRows: opts.statsPartRows ?? DEFAULT_STATS_PART_ROWS,
    parquet: opts.parquet ?? false,
    prefixes: DEFAULT_PREFIXES,
  };
  let shardsDone = 0;
  const stack = await startLocalStack({
    s3,
    config,
    bucket: BUCKET,
    ...(opts.logs && { logs: opts.logs }),
    wrap: (name, handler) =>
      name !== 'embed'
        ? handler
        : async (e, c) => {
            const out = await handler(e, c);
            opts.onProgress?.(++shardsDone, shards);
            return out;
          },
  });
  const { local, lambda } = stack;
  const stop = async () => {
    await stack.close();
    s3.destroy();
    await moto.stop();
  };
  let kept: KeptServices | undefined;
  try {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const key = `${DEFAULT_PREFIXES.input}${basename(opts.input)}`;
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    // What EventBridge delivers for the upload: an async invoke of the start function.
    const event = eventBridgeObjectCreated(BUCKET, key, ETag ?? '');
    await lambda.send(
      new InvokeCommand({ FunctionName: 'start', InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(event)) }),
    );
    await stack.idle();

    const store = new JobStore(s3Store(s3, BUCKET), DEFAULT_PREFIXES);
    const status = await jobStatus(store, key);
    if (status.state === 'failed') throw new PipelineError(status.error.error.message);
    if (status.state === 'refused') throw new PipelineError(status.error.error.message);
    if (status.state !== 'done') {
      const failed = local.invocations.find((i) => i.outcome !== 'succeeded');
      throw new PipelineError(
        `the pipeline stopped with the job ${status.state}${failed ? `: ${failed.functionName} failed: ${failed.errorMessage}` : ''}`,
      );
    }
    const name = outputName(key);
    const out = outputKeys(name);
    const parts = status.manifest.outputs.parquet ? await store.listOutput(name, PARQUET_DIR) : [];
    const index = status.manifest.outputs.idIndex ? [status.manifest.outputs.idIndex] : [];
    const files = [status.manifest.outputs.vectors, MAPPING_FILE, ...index, ...parts, MANIFEST_FILE];
    const folder = await OutputFolder.open(opts.outDir);
    try {
      if (parts.length > 0) await mkdir(folder.path(PARQUET_DIR));
      for (const file of files) {
        const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: out.file(file) }));
        await writeFile(folder.path(file), await got.Body!.transformToByteArray());
      }
      // An earlier run's parts go first: the folder then holds this run's alone.
      await removeParquetParts(opts.outDir);
      if (parts.length > 0) await mkdir(join(opts.outDir, PARQUET_DIR), { recursive: true });
      // Manifest last, as everywhere: its presence says the others are complete.
      await folder.commit(files);
    } finally {
      await folder.discard();
    }
    if (opts.keep)
      kept = { s3Endpoint: moto.endpoint, lambdaEndpoint: local.endpoint, region: LOCAL_REGION, bucket: BUCKET, key, close: stop };
    const run = stack.execution(status.jobId);
    const execution = { name: status.jobId, status: run?.status ?? 'unknown', operations: run?.operations ?? [] };
    return { manifest: status.manifest, invocations: local.invocations.length, execution, kept };
  } finally {
    if (!kept) await stop();
  }
}

/** Removes the Parquet parts in `dir/parquet/`, and the folder if that empties it (other files there are left alone). */
async function removeParquetParts(dir: string): Promise<void> {
  const names = await readdir(join(dir, PARQUET_DIR)).catch(() => []);
  const parts = names.map((n) => `${PARQUET_DIR}/${n}`).filter(isParquetPartFile);
  await Promise.all(parts.map((f) => rm(join(dir, f), { force: true })));
  if (parts.length === names.length) await rm(join(dir, PARQUET_DIR), { recursive: true, force: true });
}

/** The number of shards the stats step will plan, from the file's footer. */
async function shardCount(input: string, shardRows: number): Promise<number> {
  const source = await openFileSource(input);
  try {
    return planShards(
      (await readFooter(source)).rowGroups.map((g) => g.numRows),
      shardRows,
    ).length;
  } finally {
    await source.close();
  }
}
