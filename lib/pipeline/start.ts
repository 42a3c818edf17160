/**
 * What the S3-triggered start function does with one upload: refuse a key whose outputs cannot
 * be written (error.json under a key derived from it, and no job), skip a version already
 * published, else start the job's one durable execution. The execution's name is the job id, so
 * an event delivered twice starts it once (the engine returns the running execution); a run
 * after a failed one of the same bytes (a re-upload, or `redrive`) is the next generation.
 */
import type { JobStore } from './job-store.ts';
import type { JobInput } from './records.ts';
import { jobIdFor } from './keys.ts';

/**
 * The engine's door: starts the execution named `input.jobId` unless one of that name exists;
 * says which: `started`, `running` (that execution is under way), or `ended` (it finished, and
 * a name is never run twice).
 */
export interface Starter {
  start(input: JobInput): Promise<'started' | 'running' | 'ended'>;
}

/** Generations tried past an ended one before giving up (each is a run of these bytes that ended unpublished). */
const MAX_GENERATIONS = 1000;

export type StartOutcome =
  | { status: 'started'; jobId: string; generation: number }
  | { status: 'already-published'; key: string; etag: string }
  | { status: 'refused'; key: string; message: string }
  | { status: 'ignored'; key: string; reason: string };

/** Starts the job of one upload (`etag` null: the version there now). */
export async function startJob(store: JobStore, starter: Starter, upload: { key: string; etag: string | null }): Promise<StartOutcome> {
  const { key } = upload;
  if (!key.startsWith(store.prefixes.input)) return { status: 'ignored', key, reason: `not under ${store.prefixes.input}` };
  // The event rule filters by prefix alone (EventBridge takes one matcher per field): other files are no job's.
  if (!/\.parquet$/i.test(key)) return { status: 'ignored', key, reason: 'not a .parquet file' };
  const etag = upload.etag ?? (await store.currentEtag(key));
  if (!etag) return { status: 'ignored', key, reason: 'the object no longer exists' };
  const problem = store.keyProblem(key);
  if (problem) {
    const message = `${store.url(key)}: cannot be embedded: ${problem}`;
    await store.writeRejectedKey({ key, etag }, jobIdFor(store.bucket, key, etag), { type: 'InvalidKey', message });
    return { status: 'refused', key, message };
  }
  const name = store.nameOf(key);
  const [manifest, error] = await Promise.all([store.readManifest(name), store.readError(name)]);
  if (manifest?.input.etag === etag) return { status: 'already-published', key, etag };
  // After a failed run of these bytes, the next; after one that ended otherwise (published and
  // then replaced: A, B, A again), the first whose name the engine has not run.
  for (let generation = error?.input.etag === etag ? (error.generation ?? 0) + 1 : 0; generation < MAX_GENERATIONS; generation++) {
    const jobId = jobIdFor(store.bucket, key, etag, generation);
    if ((await starter.start({ bucket: store.bucket, key, etag, jobId, generation })) !== 'ended')
      return { status: 'started', jobId, generation };
    // Ended since the manifest was read (a duplicate event racing the job's end): nothing to run.
    if ((await store.readManifest(name))?.input.etag === etag) return { status: 'already-published', key, etag };
  }
  return {
    status: 'refused',
    key,
    message: `${store.url(key)}: ${MAX_GENERATIONS} runs of these bytes have ended unpublished; not starting another`,
  };
}
