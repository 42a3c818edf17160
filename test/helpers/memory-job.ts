/**
 * The job steps over the in-memory store, driven by a recording invoker: each step's follow-up
 * invocations queue up, and `drain` runs them in order until none are left (or a hook stops one).
 */
import { MemoryStore } from '../../lib/pipeline/memory-store.ts';
import { JobStore } from '../../lib/pipeline/job-store.ts';
import { DEFAULT_PREFIXES } from '../../lib/pipeline/keys.ts';
import { runStats, runStatsPart, type StatsOptions } from '../../lib/pipeline/stats-step.ts';
import { runEmbedShard } from '../../lib/pipeline/embed-step.ts';
import { runReduce } from '../../lib/pipeline/reduce-step.ts';
import type { Invoker, StepContext } from '../../lib/pipeline/invoker.ts';
import type { EmbedPayload, ReducePayload, StatsPartPayload, StatsStartPayload } from '../../lib/pipeline/payloads.ts';

export type Call =
  | { fn: 'stats'; payload: StatsStartPayload }
  | { fn: 'embed'; payload: EmbedPayload }
  | { fn: 'statsPart'; payload: StatsPartPayload }
  | { fn: 'reduce'; payload: ReducePayload };

export class MemoryJob {
  readonly objects = new MemoryStore('unit');
  readonly store = new JobStore(this.objects, DEFAULT_PREFIXES);
  /** Every invocation a step asked for, in order. */
  readonly calls: Call[] = [];
  private queue: Call[] = [];
  readonly invoker: Invoker = {
    stats: async (payload) => this.record({ fn: 'stats', payload }),
    embed: async (payload) => this.record({ fn: 'embed', payload }),
    statsPart: async (payload) => this.record({ fn: 'statsPart', payload }),
    reduce: async (payload) => this.record({ fn: 'reduce', payload }),
  };

  constructor(readonly options: StatsOptions) {}

  get ctx(): StepContext {
    return { store: this.store, invoker: this.invoker };
  }

  private record(call: Call): void {
    this.calls.push(call);
    this.queue.push(call);
  }

  /** Uploads `body` to `key` and runs the stats step on it, as the S3 event would. */
  async upload(key: string, body: Uint8Array) {
    const etag = this.objects.upload(key, body);
    return { etag, outcome: await runStats(this.ctx, { key, etag }, this.options) };
  }

  /** Runs queued invocations until none are left; returns how many ran. */
  async drain(): Promise<number> {
    let n = 0;
    for (let call = this.queue.shift(); call; call = this.queue.shift(), n++) await this.run(call);
    return n;
  }

  async run(call: Call): Promise<unknown> {
    if (call.fn === 'embed') return runEmbedShard(this.ctx, call.payload.jobId, call.payload.shard);
    if (call.fn === 'statsPart') return runStatsPart(this.ctx, call.payload.jobId, call.payload.statsPart);
    if (call.fn === 'stats') return runStats(this.ctx, call.payload, this.options);
    return runReduce(this.ctx, call.payload.jobId, async () => {});
  }

  /** Drops the queued invocations (a lost event), returning them. */
  dropQueued(): Call[] {
    return this.queue.splice(0);
  }

  /** An output file's bytes, or null. */
  output(name: string, file: string): Uint8Array | null {
    return this.objects.objects.get(`${DEFAULT_PREFIXES.output}${name}/${file}`)?.body ?? null;
  }
}
