/**
 * The crash-point suite's harness: one real job per case (moto_server as S3, the local Lambda
 * endpoint, the real handler factories; several shards, statistics in parts), one fault
 * injected, then async retries and reconciler rounds on a fake clock until the job has ended.
 * Every job also publishes Parquet parts, over a stale part an earlier publish left.
 * A case passes when the job ended exactly one way: published, byte-identical to the command
 * line's outputs, its Parquet parts exactly one per shard and holding the same vectors, with no
 * job scratch and no index entry left; or error.json naming the cause,
 * with nothing published for that upload. Never both, never still running after the last round.
 */
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { s3ClientFor } from '../../lib/emulators/moto.ts';
import { startLocalStack } from '../../lib/emulators/local-stack.ts';
import { s3Store } from '../../lib/aws/s3-store.ts';
import { s3PutEvent } from '../../lib/aws/s3-event.ts';
import { JobStore } from '../../lib/pipeline/job-store.ts';
import { DEFAULT_PREFIXES } from '../../lib/pipeline/keys.ts';
import { jobStatus } from '../../lib/pipeline/status.ts';
import type { Config } from '../../lib/aws/config.ts';
import type { Manifest } from '../../lib/outputs/manifest.ts';
import { Rng } from '../../lib/generate/random.ts';
import { Injector, injectS3Errors, running, type Fault, type Point, type Rule } from './faults.ts';
import { getObjectOrNull, keysUnder } from '../helpers/s3.ts';
import { parquetPartFile } from '../../lib/outputs/file-names.ts';
import * as pw from 'parquet-wasm';
import { tableFromIPC } from 'apache-arrow';

/** What every case compares against: the input and the command line's outputs for it. */
export interface Reference {
  input: Uint8Array;
  vectors: Buffer;
  mapping: Buffer;
}

export type CaseSpec =
  /** `provoke`: another fault that makes the point's function run at all (the reconciler, the failure function). */
  | { kind: 'point'; point: Point; fault: Fault; provoke?: Rule }
  | { kind: 's3-errors'; rate: number; seed: number }
  | { kind: 'lost-event' }
  /** Every shard invoke is lost, the reconciler's too: the job must fail with error.json after its redrives. */
  | { kind: 'never-finishes' }
  | { kind: 'clean' };

export interface CaseResult {
  name: string;
  outcome: 'published' | 'failed' | 'running' | 'broken';
  /** Reconciler rounds it took to end (0: retries alone were enough). */
  rounds: number;
  ms: number;
  /** Why the case failed, when it did. */
  problem?: string;
  error?: string;
  /** The points the run passed. */
  seen?: Point[];
  fired?: boolean;
}

const KEY = 'incoming/chaos.parquet';
const NAME = 'chaos';
const STALL_MS = 60_000;
const MAX_ROUNDS = 12;
/** A part no publish of the case's job writes (it has 5 shards): what an earlier publish in more shards left. */
const STALE_PART = `embeddings/${NAME}/${parquetPartFile(9)}`;
let bucketCount = 0;

export function caseName(spec: CaseSpec): string {
  switch (spec.kind) {
    case 'point':
      return `${spec.fault} @ ${spec.point.fn}: ${spec.point.op}${spec.provoke ? ` (after ${spec.provoke.fault} @ ${spec.provoke.point.fn}: ${spec.provoke.point.op})` : ''}`;
    case 's3-errors':
      return `S3 503 at ${Math.round(spec.rate * 100)} % (seed ${spec.seed})`;
    case 'lost-event':
      return 'the S3 event of the upload is lost';
    case 'never-finishes':
      return 'every shard invoke is lost, the redrives too';
    case 'clean':
      return 'no fault';
  }
}

/** Runs one case against the S3 API at `endpoint`. */
export async function runCase(endpoint: string, ref: Reference, spec: CaseSpec): Promise<CaseResult> {
  const t0 = performance.now();
  const bucket = `chaos-${process.pid}-${++bucketCount}`;
  const check = s3ClientFor(endpoint); // the harness's own view of S3, never faulty
  const handlersS3 = s3ClientFor(endpoint);
  let jobId = '';
  const rules: Rule[] =
    spec.kind === 'point'
      ? [{ point: spec.point, fault: spec.fault }, ...(spec.provoke ? [spec.provoke] : [])]
      : spec.kind === 'never-finishes'
        ? (['stats', 'reconcile'] as const).map((fn) => ({ point: { fn, op: 'invoke embed' }, fault: 'drop-always' as const }))
        : [];
  const injector = new Injector(rules, { jobId: () => jobId, name: NAME });
  if (spec.kind === 's3-errors') {
    const rng = new Rng(spec.seed, 0);
    injectS3Errors(handlersS3, spec.rate, () => rng.random());
  }
  let offset = 0;
  const now = () => Date.now() + offset;
  const config: Config = {
    statsFunction: 'stats',
    embedFunction: 'embed',
    reduceFunction: 'reduce',
    shardRows: 1000,
    statsPartRows: 2000,
    prefixes: DEFAULT_PREFIXES,
    parquet: true,
    stallMs: STALL_MS,
    maxRedrives: 3,
  };
  const stack = await startLocalStack({
    s3: handlersS3,
    config,
    bucket,
    now,
    wait: async () => {},
    wrap: (fn, handler) => (event, context) => running.run(fn, () => handler(event, context)),
    wrapStore: (s) => injector.store(s),
    wrapInvoker: (i) => injector.invoker(i),
  });
  const store = new JobStore(s3Store(check, bucket), DEFAULT_PREFIXES);
  const name = caseName(spec);
  try {
    await check.send(new CreateBucketCommand({ Bucket: bucket }));
    await check.send(new PutObjectCommand({ Bucket: bucket, Key: STALE_PART, Body: 'stale' }));
    const { ETag } = await check.send(new PutObjectCommand({ Bucket: bucket, Key: KEY, Body: ref.input }));
    const etag = ETag!;
    jobId = store.jobIdOf({ key: KEY, etag });
    if (spec.kind !== 'lost-event') await invoke(stack.lambda, 'stats', s3PutEvent(bucket, KEY, etag), 'Event');
    await stack.local.idle();
    let rounds = 0;
    let state = await ended(store, jobId);
    while (!state && rounds < MAX_ROUNDS) {
      rounds++;
      offset += STALL_MS + 1000;
      // A failed sweep is only a failed round, as on the schedule: the next one runs anyway.
      await invoke(stack.lambda, 'reconcile', { bucket }, 'RequestResponse').catch(() => undefined);
      await stack.local.idle();
      state = await ended(store, jobId);
    }
    const ms = performance.now() - t0;
    const base = { name, rounds, ms, fired: injector.firedAt !== null, seen: [...injector.seen.values()] };
    if (!state) {
      const left = [...(await store.scratch(jobId)), ...((await store.readActive(jobId)) ? ['the index entry'] : [])];
      return {
        ...base,
        outcome: 'running',
        problem: `still ${await describe(store)} after ${MAX_ROUNDS} reconciler rounds; left: ${left.join(', ')}`,
      };
    }
    const problem = await verify(check, store, bucket, jobId, etag, ref, state);
    const error = state === 'failed' ? (await store.readError(NAME))?.error.message : undefined;
    return { ...base, outcome: problem ? 'broken' : state, ...(problem ? { problem } : {}), ...(error ? { error } : {}) };
  } finally {
    await stack.close();
    handlersS3.destroy();
    check.destroy();
  }
}

async function invoke(lambda: LambdaClient, fn: string, payload: unknown, type: 'Event' | 'RequestResponse') {
  const out = await lambda.send(
    new InvokeCommand({ FunctionName: fn, InvocationType: type, Payload: new TextEncoder().encode(JSON.stringify(payload)) }),
  );
  if (out.FunctionError) throw new Error(`${fn} failed: ${new TextDecoder().decode(out.Payload)}`);
}

/** 'published' or 'failed' once the job has ended and its bookkeeping is gone; null while it has not. */
async function ended(store: JobStore, jobId: string): Promise<'published' | 'failed' | null> {
  const status = await jobStatus(store, KEY);
  if (status.state !== 'done' && status.state !== 'failed') return null;
  if ((await store.readActive(jobId)) !== null) return null;
  if ((await store.scratch(jobId)).length > 0) return null;
  return status.state === 'done' ? 'published' : 'failed';
}

async function describe(store: JobStore): Promise<string> {
  const s = await jobStatus(store, KEY);
  return s.state;
}

/** What must hold of an ended job; a sentence for the first thing that does not. */
async function verify(
  s3: S3Client,
  store: JobStore,
  bucket: string,
  jobId: string,
  etag: string,
  ref: Reference,
  state: 'published' | 'failed',
): Promise<string | null> {
  const manifest = await store.readManifest(NAME);
  const error = await store.readError(NAME);
  const publishedThis = manifest?.input.etag === etag;
  if (publishedThis && error?.jobId === jobId) return 'both published and error.json';
  if (state === 'failed') {
    if (publishedThis) return 'failed, yet its outputs are published';
    if (!error?.error.message) return 'failed without a message';
    return null;
  }
  const vectors = await getObjectOrNull(s3, bucket, `embeddings/${NAME}/spotify_vectors_14d.npy`);
  const mapping = await getObjectOrNull(s3, bucket, `embeddings/${NAME}/id_to_index.json`);
  if (!vectors?.equals(ref.vectors)) return 'published vectors differ from the command line';
  if (!mapping?.equals(ref.mapping)) return 'published mapping differs from the command line';
  if (error) return 'published, with an error.json beside the outputs';
  return partsProblem(s3, bucket, manifest!, ref);
}

/** The published Parquet parts: one per shard, none left over, their vectors (read by parquet-wasm) the command line's. */
async function partsProblem(s3: S3Client, bucket: string, manifest: Manifest, ref: Reference): Promise<string | null> {
  const keys = await keysUnder(s3, bucket, `embeddings/${NAME}/parquet/`);
  const expected = Array.from({ length: manifest.shards.count }, (_, i) => `embeddings/${NAME}/${parquetPartFile(i)}`);
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

/** The faults that make the reconciler and the failure function run, for their own points. */
export const PROVOKE: Partial<Record<Point['fn'], Rule>> = {
  // A dropped shard invoke: the reconciler redrives it.
  reconcile: { point: { fn: 'stats', op: 'invoke embed' }, fault: 'drop' },
  // A shard that always fails: the failure function ends the job.
  failure: { point: { fn: 'embed', op: 'put jobs/<job>/shards/<i>.f32' }, fault: 'fail-always' },
};

/** The matrix: every point the discovery runs passed, with the faults that apply to it, and the S3-wide faults. */
export function matrix(seen: readonly Point[], seeds: readonly number[] = [1, 2, 3]): CaseSpec[] {
  const cases: CaseSpec[] = [];
  for (const point of seen) {
    const faults: Fault[] = point.op.startsWith('invoke')
      ? ['crash-before', 'crash-after', 'drop', 'duplicate']
      : point.op.startsWith('putIfAbsent')
        ? ['crash-before', 'crash-after', 'lost-response']
        : ['crash-before', 'crash-after'];
    const provoke = PROVOKE[point.fn];
    for (const fault of faults) cases.push({ kind: 'point', point, fault, ...(provoke ? { provoke } : {}) });
  }
  // A step that fails on every attempt: the on-failure destination must end the job.
  for (const fn of ['stats', 'embed', 'reduce'] as const) {
    const first = seen.find((p) => p.fn === fn);
    if (first) cases.push({ kind: 'point', point: first, fault: 'fail-always' });
  }
  cases.push({ kind: 'lost-event' }, { kind: 'never-finishes' });
  for (const rate of [0.05, 0.2]) for (const seed of seeds) cases.push({ kind: 's3-errors', rate, seed });
  return cases;
}

/** The runs that reach the reconciler and the failure function, which a fault-free run never does. */
export const RECOVERY_DISCOVERY: CaseSpec[] = Object.values(PROVOKE).map((r) => ({ kind: 'point', point: r.point, fault: r.fault }));
