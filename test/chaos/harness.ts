/**
 * The crash-point suite's harness: one real job per case (moto_server as S3, the local Lambda
 * endpoint serving the real handler factories, the SDK's own durable runner driving the job;
 * five shards, statistics in three parts, Parquet parts over a stale one an earlier publish
 * left), its fault injected through the stack's hooks, then idle. `verify` judges the ending.
 */
import { randomUUID } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { s3ClientFor } from '../../lib/emulators/moto.ts';
import { startLocalStack, type LocalStack } from '../../lib/emulators/local-stack.ts';
import { localJobSettings } from '../../lib/emulators/serverless-pipeline.ts';
import { s3Store } from '../../lib/aws/s3-store.ts';
import { eventBridgeObjectCreated } from '../../lib/aws/s3-event.ts';
import { JobStore } from '../../lib/pipeline/job-store.ts';
import { DEFAULT_PREFIXES, jobIdFor, publishLockKey } from '../../lib/pipeline/keys.ts';
import type { PublishLock } from '../../lib/pipeline/records.ts';
import { parquetPartFile } from '../../lib/outputs/file-names.ts';
import type { JobConfig } from '../../lib/aws/config.ts';
import { Rng } from '../../lib/generate/random.ts';
import { Injector, running, type Point, type Rule } from './faults.ts';
import { injectS3Errors, killMultipartUpload, throttleInvokes } from './wire-faults.ts';
import { caseName, expectedEnding, type CaseSpec } from './cases.ts';
import { verify, type Ending, type JobEnding, type Upload, type Verdict } from './verify.ts';
import type { Inputs } from './inputs.ts';

export type Outcome = Ending | 'broken' | 'running';

export interface CaseResult {
  name: string;
  outcome: Outcome;
  expected: 'published' | 'failed';
  /** Every job of the case, oldest first. */
  jobs: JobEnding[];
  ms: number;
  problem?: string;
  /** The newest job's error.json message, when it failed. */
  error?: string;
  /** Whether the case's fault (or the point its scenario acts at) was reached; null when it has none. */
  fired: boolean | null;
  /** The points the run passed. */
  seen: Point[];
}

const KEY = 'incoming/chaos.parquet';
const NAME = 'chaos';
/** A part no publish of the case's job writes (it has 5 shards): what an earlier publish in more shards left. */
const STALE_PART = `embeddings/${NAME}/${parquetPartFile(9)}`;
/** Past this a case counts as running for ever (its stack is abandoned). */
const DEADLINE_MS = 240_000;

function configFor(spec: CaseSpec): JobConfig {
  const big = spec.scenario.kind === 'killed-multipart';
  return {
    ...localJobSettings,
    attempts: 3,
    shardRows: big ? 40_000 : 1000,
    statsPartRows: big ? 80_000 : 2000,
    parquet: true,
    prefixes: DEFAULT_PREFIXES,
  };
}

/** Runs one case against the S3 API at `endpoint`. */
export async function runCase(endpoint: string, inputs: Inputs, spec: CaseSpec): Promise<CaseResult> {
  const t0 = performance.now();
  const bucket = `chaos-${randomUUID().slice(0, 13)}`;
  const check = s3ClientFor(endpoint); // the harness's own view of S3, never faulty
  const handlersS3 = s3ClientFor(endpoint);
  const { scenario } = spec;
  const ref = scenario.kind === 'killed-multipart' ? await inputs.big() : inputs.main;
  const uploads: Upload[] = [];
  let deleted = false;
  let stack: LocalStack | undefined;

  const upload = async (bytes: Uint8Array) => {
    const { ETag } = await check.send(new PutObjectCommand({ Bucket: bucket, Key: KEY, Body: bytes }));
    const u = { version: `v${uploads.length + 1}`, etag: ETag! };
    uploads.push(u);
    return u.etag;
  };
  /** What EventBridge delivers for an upload: an async invoke of the start function. */
  const notify = async (etag: string) => {
    const event = eventBridgeObjectCreated(bucket, KEY, etag);
    const out = await stack!.lambda.send(
      new InvokeCommand({ FunctionName: 'start', InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(event)) }),
    );
    if (out.StatusCode !== 202) throw new Error(`the start event was not accepted: ${out.StatusCode}`);
  };

  const rules: Rule[] = [];
  const olderJob = () => jobIdFor(bucket, KEY, uploads[0]!.etag);
  const act = scenario.kind === 'new-version' || scenario.kind === 'deleted' ? scenario.at : undefined;
  const action =
    scenario.kind === 'new-version'
      ? async () => notify(await upload(ref.input))
      : async () => {
          await check.send(new DeleteObjectCommand({ Bucket: bucket, Key: KEY }));
          deleted = true;
        };
  const same = act && spec.fault && act.fn === spec.fault.point.fn && act.op === spec.fault.point.op;
  if (spec.fault) {
    const { point, fault, older } = spec.fault;
    rules.push({ point, fault, ...(same && { action }), ...(older && { job: olderJob }) });
  }
  if (act && !same) rules.push({ point: act, action });
  const injector = new Injector(rules, NAME);

  let abandoned = false;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), DEADLINE_MS)));
  try {
    stack = await startLocalStack({
      s3: handlersS3,
      config: configFor(spec),
      wrap: (fn, handler) => (event, context) =>
        running.run(fn, () => (fn === 'start' ? injector.at('handler', '', () => handler(event, context)) : handler(event, context))),
      wrapStore: (s) => injector.store(s),
      wrapInvoke: (i) => injector.invoke(i),
    });
    const s = stack;
    const wire = wireFaults(spec, handlersS3, s);
    await check.send(new CreateBucketCommand({ Bucket: bucket }));
    await check.send(new PutObjectCommand({ Bucket: bucket, Key: STALE_PART, Body: 'stale' }));
    if (scenario.kind === 'stale-lock') {
      // What a holder whose execution ended long ago left: its lease is over.
      const lock = JSON.stringify({ jobId: 'a-job-long-gone', until: Date.now() - 60_000 } satisfies PublishLock);
      await check.send(new PutObjectCommand({ Bucket: bucket, Key: publishLockKey(NAME, DEFAULT_PREFIXES), Body: lock }));
    }

    const drive = async () => {
      switch (scenario.kind) {
        case 'bad-input': {
          const etag = await upload(inputs.bad[scenario.input]);
          await notify(etag);
          if (scenario.eventAgain) {
            await s.idle();
            await notify(etag);
          }
          break;
        }
        case 'new-version':
          await notify(await upload(inputs.older));
          break;
        case 'event-twice': {
          const etag = await upload(ref.input);
          if (scenario.when === 'at-once') await Promise.all([notify(etag), notify(etag)]);
          else {
            await notify(etag);
            await s.idle();
            await notify(etag);
          }
          break;
        }
        case 'older-event-last': {
          const older = await upload(inputs.older);
          await notify(await upload(ref.input));
          if (scenario.when === 'after-end') await s.idle();
          await notify(older);
          break;
        }
        default:
          await notify(await upload(ref.input));
      }
      await s.idle();
    };
    const driven = drive();
    if ((await Promise.race([driven.then(() => 'idle' as const), deadline])) === 'deadline') {
      abandoned = true;
      driven.catch(() => undefined);
      const left = [...s.engine.executions.values()].filter((e) => e.status === 'RUNNING').map((e) => e.name);
      return {
        ...base(),
        outcome: 'running',
        jobs: [],
        problem: `not idle after ${DEADLINE_MS / 1000} s; running: ${left.join(', ') || 'no execution (an invocation hangs)'}`,
      };
    }

    const store = new JobStore(s3Store(check, bucket), DEFAULT_PREFIXES);
    const executions = [...s.engine.executions.values()];
    const v = await verify({ s3: check, store, key: KEY, uploads, deleted, executions, written: injector.written, ref });
    const newest = v.newest?.ending;
    const problem =
      v.problem ??
      (newest === 'published' || newest === 'failed'
        ? await scenarioProblem({ spec, ending: newest, verdict: v, store, stack: s, injector, wire, uploads: uploads.length })
        : null);
    const outcome: Outcome = !newest || newest === 'running' ? 'running' : problem ? 'broken' : newest;
    return { ...base(), outcome, jobs: v.jobs, ...(problem && { problem }), ...(v.error !== undefined && { error: v.error }) };
  } finally {
    clearTimeout(timer);
    // An abandoned stack (past the deadline) is left running: closing it would wait for it.
    if (stack && !abandoned) {
      await stack.close();
      await emptyBucket(check, bucket);
      handlersS3.destroy();
      check.destroy();
    }
  }

  function base() {
    return {
      name: caseName(spec),
      expected: expectedEnding(spec),
      ms: performance.now() - t0,
      fired: rules.length > 0 ? injector.allFired() : null,
      seen: [...injector.seen.values()],
    };
  }
}

type Wire = ReturnType<typeof wireFaults>;

/** The faults below the SDK a scenario injects, and what they report. */
function wireFaults(spec: CaseSpec, handlersS3: S3Client, stack: LocalStack) {
  const { scenario } = spec;
  if (scenario.kind === 's3-errors') {
    const rng = new Rng(scenario.seed, 0);
    return { s3: injectS3Errors(handlersS3, scenario.rate, () => rng.random()) };
  }
  if (scenario.kind === 'killed-multipart') return { killed: killMultipartUpload(handlersS3, '.npy') };
  if (scenario.kind === 'throttled') return { throttled: throttleInvokes(stack.lambda, 'embed', (p) => p.shard === scenario.shard) };
  return {};
}

interface Seen {
  spec: CaseSpec;
  ending: 'published' | 'failed';
  verdict: Verdict;
  store: JobStore;
  stack: LocalStack;
  injector: Injector;
  wire: Wire;
  uploads: number;
}

/** What a scenario must show besides a proper ending: that its fault bit, and the cause error.json names. */
async function scenarioProblem({ spec, ending, verdict: v, store, stack, injector, wire, uploads }: Seen): Promise<string | null> {
  const { scenario } = spec;
  const message = v.error ?? '';
  const embeds = stack.local.invocations.filter((i) => i.functionName === 'embed').length;
  if (scenario.kind === 'bad-input' && ending === 'failed') {
    if (embeds > 0) return `bad input, yet ${embeds} embed invocation(s) ran`;
    if (injector.seen.has('job: put jobs/<job>/plan.json')) return 'bad input, yet a plan was written';
    if (!message.includes(store.url(KEY))) return `error.json does not name the input: ${message}`;
    if (scenario.eventAgain && v.jobs.length !== 2)
      return `the event again after the failure ran ${v.jobs.length} job(s), expected a next generation`;
  }
  if (scenario.kind === 'throttled' && ending === 'failed') {
    const error = await store.readError(NAME);
    if (error?.error.shard !== scenario.shard || !new RegExp(`shard ${scenario.shard} of 5 failed after 3 attempt`).test(message))
      return `error.json does not name shard ${scenario.shard}: ${JSON.stringify(error?.error)}`;
    if ((wire.throttled?.throttled ?? 0) < 3) return `only ${wire.throttled?.throttled} invoke(s) were throttled`;
  }
  const invoked = spec.fault?.fault === 'crash-after' && /^invoke (\w+)/.exec(spec.fault.point.op)?.[1];
  if (invoked && !injector.ranTwice(invoked)) return `the ${invoked} function did not run twice after its response was lost`;
  if (scenario.kind === 'killed-multipart') {
    if (!wire.killed?.killedUpload) return 'no multipart upload was killed (the .npy did not go multipart)';
    if (!wire.killed.orphanAborted) return 'the killed upload was never aborted by a later attempt';
  }
  if ((scenario.kind === 'event-twice' || scenario.kind === 'older-event-last') && v.jobs.length !== uploads)
    return `${v.jobs.length} job(s) for ${uploads} upload(s)`;
  if (scenario.kind === 's3-errors' && (wire.s3?.injected() ?? 0) === 0) return 'no S3 error was injected';
  if (scenario.kind === 'stale-lock' && ending === 'published' && !injector.seen.has('job: replaceIfMatch jobs/publish-locks/<lock>'))
    return 'published without taking the stale lock over';
  return null;
}

/** Removes the case's bucket: the suite shares one moto_server. */
async function emptyBucket(s3: S3Client, bucket: string): Promise<void> {
  const open = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  for (const u of open.Uploads ?? []) await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
  for (;;) {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (page.Contents ?? []).map((c) => ({ Key: c.Key! }));
    if (keys.length === 0) break;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}
