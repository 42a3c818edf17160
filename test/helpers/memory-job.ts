/**
 * Jobs over the in-memory store, run as on AWS but in-process: the start handler starts the real
 * job workflow (`jobHandler`) as a durable execution in the SDK's local runner (LocalEngine), and
 * the engine's invokes of stats, embed and reduce call their real handlers directly — no HTTP,
 * no S3. Every invoke is recorded; a test fails one (`before`) or holds one (`hold`).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { MemoryStore } from '../../lib/pipeline/memory-store.ts';
import { JobStore } from '../../lib/pipeline/job-store.ts';
import { DEFAULT_PREFIXES } from '../../lib/pipeline/keys.ts';
import { embedHandler, jobHandler, reduceHandler, startHandler, statsHandler, type StoreDeps } from '../../lib/aws/handlers.ts';
import { LocalEngine, type LocalExecution } from '../../lib/emulators/local-engine.ts';
import { localJobSettings } from '../../lib/emulators/serverless-pipeline.ts';
import { DEFAULT_MAX_SHARD_ROWS, DEFAULT_STATS_PART_ROWS } from '../../lib/embedding/shard-plan.ts';
import { eventBridgeObjectCreated } from '../../lib/aws/s3-event.ts';
import type { JobConfig } from '../../lib/aws/config.ts';
import type { StartOutcome } from '../../lib/pipeline/start.ts';

export type Fn = 'stats' | 'embed' | 'reduce' | 'repeats';

/** One invoke the job made: which function, and its payload. */
export interface Call {
  fn: Fn;
  payload: { bucket: string; jobId: string; task?: string; part?: number; shard?: number };
}

/** Never sends a request: the handlers here open the MemoryStore (`objects`), not S3. */
const NO_S3 = new S3Client({ region: 'us-east-1' });

export class MemoryJob {
  readonly store: JobStore;
  /** Every invoke of stats, embed and reduce, in the order they began (retries included). */
  readonly calls: Call[] = [];
  /** Runs before each invoke's handler: a throw fails that attempt. */
  before?: (call: Call) => Promise<void> | void;
  private readonly holds: { fn: Fn; reached: (call: Call) => void; released: Promise<void> }[] = [];

  private constructor(
    readonly objects: MemoryStore,
    readonly config: JobConfig,
    private readonly engine: LocalEngine,
    private readonly start: (event: unknown) => Promise<StartOutcome[]>,
  ) {
    this.store = new JobStore(objects, config.prefixes);
  }

  /** A job runner with `settings` over the job defaults of one machine (retries a second apart), on a fresh bucket. */
  static async create(settings: Partial<JobConfig> = {}, bucket = 'unit'): Promise<MemoryJob> {
    const objects = new MemoryStore(bucket);
    const config: JobConfig = {
      ...localJobSettings,
      shardRows: DEFAULT_MAX_SHARD_ROWS,
      statsPartRows: DEFAULT_STATS_PART_ROWS,
      parquet: false,
      prefixes: DEFAULT_PREFIXES,
      // Its own name here, so that a test tells the repeated-id pass's invokes from the reduce's (one handler serves both).
      repeatsFunction: 'repeats',
      ...settings,
    };
    const deps: StoreDeps = { s3: NO_S3, prefixes: config.prefixes, objects: () => objects };
    const handlers: Record<string, [Fn, (event: unknown) => Promise<unknown>]> = {
      [config.statsFunction]: ['stats', statsHandler(deps)],
      [config.embedFunction]: ['embed', embedHandler(deps)],
      [config.reduceFunction]: ['reduce', reduceHandler(deps)],
      ...(config.repeatsFunction && {
        [config.repeatsFunction]: ['repeats', reduceHandler(deps)] as [Fn, (event: unknown) => Promise<unknown>],
      }),
    };
    // The engine invokes only once a job has started, by when `made.job` is set.
    const made: { job?: MemoryJob } = {};
    const engine = await LocalEngine.start(jobHandler({ ...deps, config }), Object.keys(handlers), async (name, payload) => {
      const [fn, handler] = handlers[name]!;
      return made.job!.invoke({ fn, payload: payload as Call['payload'] }, handler);
    });
    const start = startHandler({ ...deps, starter: { start: async (input) => engine.begin(input.jobId, input) } });
    made.job = new MemoryJob(objects, config, engine, start);
    return made.job;
  }

  private async invoke(call: Call, handler: (event: unknown) => Promise<unknown>): Promise<unknown> {
    this.calls.push(call);
    const hold = this.holds.findIndex((h) => h.fn === call.fn);
    if (hold >= 0) {
      const [{ reached, released }] = this.holds.splice(hold, 1) as [(typeof this.holds)[number]];
      reached(call);
      await released;
    }
    await this.before?.(call);
    // Through JSON both ways, as a real invoke's payload and answer go.
    return JSON.parse(JSON.stringify(await handler(JSON.parse(JSON.stringify(call.payload))))) as unknown;
  }

  /** Holds the next invoke of `fn` before its handler runs: `reached` resolves with it once it waits, `release` lets it go on. */
  hold(fn: Fn): { reached: Promise<Call>; release: () => void } {
    let reached!: (call: Call) => void;
    let release!: () => void;
    const held = new Promise<Call>((r) => (reached = r));
    this.holds.push({ fn, reached, released: new Promise<void>((r) => (release = r)) });
    return { reached: held, release };
  }

  /** Puts `body` at `key` and delivers its S3 event to the start handler; resolves once the job has started. */
  async upload(key: string, body: Uint8Array): Promise<{ etag: string; outcome: StartOutcome }> {
    const etag = this.objects.upload(key, body);
    return { etag, outcome: await this.notify(key, etag) };
  }

  /** Delivers the S3 event of `key` at `etag` to the start handler (again, for a duplicate or a redrive). */
  async notify(key: string, etag: string): Promise<StartOutcome> {
    const [outcome] = await this.start(eventBridgeObjectCreated(this.objects.bucket, key, etag));
    return outcome!;
  }

  /** Resolves once every execution started so far has ended. */
  settled(): Promise<void> {
    return this.engine.settled();
  }

  /** The execution of job `jobId` (its name), if one was started. */
  execution(jobId: string): LocalExecution | undefined {
    return this.engine.executions.get(jobId);
  }

  get executions(): ReadonlyMap<string, LocalExecution> {
    return this.engine.executions;
  }

  callsOf(fn: Fn): Call[] {
    return this.calls.filter((c) => c.fn === fn);
  }

  /** Waits for every execution, then stops the engine (the last one open stops the local checkpoint service). */
  close(): Promise<void> {
    return this.engine.close();
  }

  /** An output file's bytes, or null. */
  output(name: string, file: string): Uint8Array | null {
    return this.objects.objects.get(`${this.config.prefixes.output}${name}/${file}`)?.body ?? null;
  }
}
