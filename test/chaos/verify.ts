/**
 * What must hold once every job of a case has ended, read from S3 (through a client no fault
 * touches), the engine's executions and the log of manifests and errors written. Each job ended
 * exactly one way, and its execution says the same: published (SUCCEEDED), superseded by a newer
 * upload (SUCCEEDED, no error.json) or failed (FAILED, error.json naming the cause). The newest
 * upload's job published or failed, never superseded; when it published, its outputs are the
 * ones left, byte-identical to the command line's, its Parquet parts one per shard holding the
 * same vectors, no stale part, and no manifest of an older job written after its own. And the
 * bucket is left clean: no unfinished multipart upload, no publish lock, no job scratch.
 */
import { ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { tableFromIPC } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import type { LocalExecution } from '../../lib/emulators/local-engine.ts';
import type { JobStore } from '../../lib/pipeline/job-store.ts';
import type { JobResult } from '../../lib/pipeline/job.ts';
import type { JobInput } from '../../lib/pipeline/records.ts';
import type { Manifest } from '../../lib/outputs/manifest.ts';
import { parquetPartFile } from '../../lib/outputs/file-names.ts';
import { getObjectOrNull, keysUnder } from '../helpers/s3.ts';
import type { Written } from './faults.ts';
import type { Reference } from './inputs.ts';

export type Ending = 'published' | 'superseded' | 'failed';

/** One version of the case's key, as uploaded. */
export interface Upload {
  version: string;
  etag: string;
}

/** How one job ended, as its execution says. */
export interface JobEnding {
  version: string;
  jobId: string;
  generation: number;
  ending: Ending | 'running';
}

export interface Evidence {
  s3: S3Client;
  store: JobStore;
  key: string;
  /** In upload order: the last is the newest. */
  uploads: readonly Upload[];
  /** The newest upload was deleted while its job ran. */
  deleted: boolean;
  executions: readonly LocalExecution[];
  written: readonly Written[];
  /** What the newest upload's outputs must equal. */
  ref: Reference;
}

export interface Verdict {
  jobs: JobEnding[];
  /** How the newest upload's (last) job ended; null when none was started. */
  newest: JobEnding | null;
  /** The first thing that does not hold, as a sentence. */
  problem: string | null;
  /** The newest job's error.json message, when it failed. */
  error?: string;
}

const endingOf = (e: LocalExecution): JobEnding['ending'] =>
  e.status === 'RUNNING' ? 'running' : e.status === 'FAILED' ? 'failed' : (e.result as JobResult).status;

/** Judges a case whose stack is idle. */
export async function verify(ev: Evidence): Promise<Verdict> {
  const { store, uploads } = ev;
  const name = store.nameOf(ev.key);
  const versionOf = (etag: string) => uploads.find((u) => u.etag === etag)?.version ?? `etag ${etag}`;
  const jobs = ev.executions
    .map((e) => ({ e, input: e.input as JobInput }))
    .filter(({ input }) => input.key === ev.key)
    .sort(
      (a, b) =>
        uploads.findIndex((u) => u.etag === a.input.etag) - uploads.findIndex((u) => u.etag === b.input.etag) ||
        a.input.generation - b.input.generation,
    )
    .map(({ e, input }) => ({ e, input, ending: endingOf(e) }));
  const endings: JobEnding[] = jobs.map(({ input, ending }) => ({
    version: versionOf(input.etag),
    jobId: input.jobId,
    generation: input.generation,
    ending,
  }));
  const newestUpload = uploads[uploads.length - 1]!;
  const last = [...jobs].reverse().find((j) => j.input.etag === newestUpload.etag);
  const verdict = (problem: string | null, error?: string): Verdict => ({
    jobs: endings,
    newest: last ? endings[jobs.indexOf(last)]! : null,
    problem,
    ...(error !== undefined && { error }),
  });

  const running = jobs.find((j) => j.ending === 'running');
  if (running) return verdict(`the job of ${versionOf(running.input.etag)} is still running`);
  if (!last) return verdict(`no job was started for ${newestUpload.version}`);

  const [manifest, error] = await Promise.all([store.readManifest(name), store.readError(name)]);
  for (const { e, input, ending } of jobs) {
    const v = `${versionOf(input.etag)}${input.generation ? ` (generation ${input.generation})` : ''}`;
    const wroteError = ev.written.some((w) => w.file === 'error' && w.jobId === input.jobId);
    const wroteManifest = ev.written.some((w) => w.file === 'manifest' && w.etag === input.etag);
    if (ending === 'failed') {
      if (!wroteError) return verdict(`${v}'s execution FAILED (${e.error?.errorMessage}) but its job wrote no error.json`);
      if (manifest?.input.etag === input.etag) return verdict(`${v} failed with error.json, yet its outputs are published`);
      if (input.etag !== newestUpload.etag) return verdict(`${v} failed though a newer upload superseded it: ${e.error?.errorMessage}`);
    } else {
      if (wroteError) return verdict(`${v} ended ${ending} (SUCCEEDED), yet wrote error.json`);
      if (ending === 'published' && !wroteManifest) return verdict(`${v} says it published, but no manifest of it was written`);
      if (ending === 'superseded' && input.etag === newestUpload.etag) {
        return verdict(
          ev.deleted
            ? `${v} ended SUCCEEDED as superseded after its input was deleted: no error.json says so${wroteManifest ? ' (and its manifest stays published)' : ''}`
            : `${v} ended superseded, but no newer upload exists`,
        );
      }
    }
  }

  let problem: string | null = null;
  if (endingOf(last.e) === 'published') problem = await publishedProblem(ev, manifest, error !== null, last.input.etag);
  else if (error?.jobId !== last.input.jobId)
    problem = `the newest job failed, but error.json names ${error ? `job ${error.jobId}` : 'nothing'}`;
  else if (!error.error.message) problem = 'error.json has no message';
  else if (!last.e.error?.errorMessage?.includes(error.error.message))
    problem = `the FAILED execution says "${last.e.error?.errorMessage}", error.json "${error.error.message}"`;
  else if (ev.deleted && !/was deleted/.test(error.error.message))
    problem = `the input was deleted, but error.json says: ${error.error.message}`;
  problem ??= await leftovers(
    ev,
    jobs.map((x) => x.input.jobId),
  );
  return verdict(problem, endingOf(last.e) === 'failed' ? error?.error.message : undefined);
}

/** The published outputs are the newest upload's and the command line's. */
async function publishedProblem(ev: Evidence, manifest: Manifest | null, hasError: boolean, etag: string): Promise<string | null> {
  const { s3, store } = ev;
  const bucket = store.bucket;
  const prefix = store.outputPrefix(store.nameOf(ev.key));
  if (manifest?.input.etag !== etag)
    return `the manifest left names ${manifest ? `etag ${manifest.input.etag}` : 'nothing'}, not the newest upload`;
  const lastManifest = [...ev.written].reverse().find((w) => w.file === 'manifest');
  if (lastManifest?.etag !== etag) return `an older job's manifest was written last (etag ${lastManifest?.etag})`;
  if (hasError) return 'published, with an error.json beside the outputs';
  const vectors = await getObjectOrNull(s3, bucket, `${prefix}${manifest.outputs.vectors}`);
  const mapping = await getObjectOrNull(s3, bucket, `${prefix}${manifest.outputs.mapping}`);
  if (!vectors?.equals(ev.ref.vectors)) return 'the published vectors differ from the command line’s';
  if (!mapping?.equals(ev.ref.mapping)) return 'the published mapping differs from the command line’s';
  return partsProblem(s3, bucket, prefix, manifest, ev.ref);
}

/** The published Parquet parts: one per shard, none left over, their vectors (read by parquet-wasm) the command line's. */
async function partsProblem(s3: S3Client, bucket: string, prefix: string, manifest: Manifest, ref: Reference): Promise<string | null> {
  const keys = await keysUnder(s3, bucket, `${prefix}parquet/`);
  const expected = Array.from({ length: manifest.shards.count }, (_, i) => `${prefix}${parquetPartFile(i)}`);
  if (keys.join() !== expected.join()) return `Parquet parts ${keys.join(', ')}; expected ${expected.join(', ')}`;
  const vectors: Uint8Array[] = [];
  for (const key of keys) {
    const table = tableFromIPC(pw.readParquet((await getObjectOrNull(s3, bucket, key))!).intoIPCStream());
    for (const data of table.getChild('vector')!.data) {
      const v = data.children[0]!.values as Float32Array;
      vectors.push(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    }
  }
  const [rows, dims] = manifest.outputs.shape;
  // The .npy's data follows its header.
  const npyData = ref.vectors.subarray(ref.vectors.length - rows * dims * 4);
  if (!Buffer.concat(vectors).equals(npyData)) return 'the Parquet parts’ vectors differ from the command line’s';
  return null;
}

/** Nothing of a finished job is left: no unfinished multipart upload, no publish lock, no scratch. */
async function leftovers(ev: Evidence, jobIds: readonly string[]): Promise<string | null> {
  const { s3, store } = ev;
  const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: store.bucket }));
  const open = (uploads.Uploads ?? []).map((u) => u.Key);
  if (open.length > 0) return `unfinished multipart uploads left: ${open.join(', ')}`;
  // A lock of a holder long gone that the case left there (the stale-lock scenario) is not the jobs' leftover.
  const holder = await store.publishLockHolder(store.nameOf(ev.key));
  if (holder && (jobIds.includes(holder.jobId) || holder.until > Date.now()))
    return `the publish lock is left, held by job ${holder.jobId} until ${new Date(holder.until).toISOString()}`;
  for (const id of jobIds) {
    const scratch = await store.scratch(id);
    if (scratch.length > 0) return `job ${id}'s scratch is left: ${scratch.slice(0, 3).join(', ')}${scratch.length > 3 ? ', …' : ''}`;
  }
  const stray = (await keysUnder(s3, store.bucket, store.prefixes.jobs)).filter((k) => !holder || !k.includes('/publish-locks/'));
  return stray.length > 0 ? `left under ${store.prefixes.jobs}: ${stray.slice(0, 3).join(', ')}` : null;
}
