/**
 * The durable execution engine, simulated: the subset of `DurableContext` the job's handler
 * (lib/pipeline/job.ts) calls — step, invoke, map, runInChildContext, wait, waitForCondition —
 * with the engine's semantics (a step's retry strategy, a map's per-item child contexts and
 * bounded concurrency, failures collected in its BatchResult) and a checkpoint's latency per
 * operation, in virtual time. Operations are recorded for the critical path.
 */
import type { BatchItem, BatchResult, DurableContext } from '@aws/durable-execution-sdk-js';
import type { Platform } from './figures.ts';
import type { Clock } from './clock.ts';
import type { SimLambda } from './sim-lambda.ts';

/** One operation of the execution: its name, depth (0: the job's own), start and end. */
export interface Operation {
  name: string;
  kind: 'step' | 'invoke' | 'map' | 'child' | 'wait' | 'waitForCondition';
  depth: number;
  start: number;
  end: number;
  ok: boolean;
}

type Duration = { days?: number; hours?: number; minutes?: number; seconds?: number };
const ms = (d: Duration | undefined) =>
  d ? (((d.days ?? 0) * 24 + (d.hours ?? 0)) * 60 + (d.minutes ?? 0)) * 60_000 + (d.seconds ?? 0) * 1000 : 1000;

/** An error of the engine's kinds, by name, as job.ts tells them apart. */
class EngineError extends Error {
  constructor(
    override readonly name: 'StepError' | 'ChildContextError' | 'InvokeError',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export class SimEngine {
  readonly operations: Operation[] = [];
  checkpoints = 0;

  constructor(
    readonly clock: Clock,
    readonly lambda: SimLambda,
    readonly platform: Platform,
  ) {}

  /** The root context of an execution. */
  context(): DurableContext {
    return new SimContext(this, 0) as unknown as DurableContext;
  }

  async checkpoint(): Promise<void> {
    this.checkpoints++;
    await this.clock.sleep(this.platform.engine.checkpointMs.value);
  }

  async record<T>(name: string, kind: Operation['kind'], depth: number, work: () => Promise<T>): Promise<T> {
    const op: Operation = { name, kind, depth, start: this.clock.now, end: 0, ok: false };
    this.operations.push(op);
    try {
      const r = await work();
      op.ok = true;
      return r;
    } finally {
      op.end = this.clock.now;
    }
  }
}

interface RetryDecision {
  shouldRetry: boolean;
  delay?: Duration;
}

class SimContext {
  constructor(
    private readonly e: SimEngine,
    private readonly depth: number,
  ) {}

  step<T>(name: string, fn: () => Promise<T>, cfg?: { retryStrategy?: (e: Error, attempt: number) => RetryDecision }): Promise<T> {
    return this.e.record(name, 'step', this.depth, async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          const r = await fn();
          await this.e.checkpoint();
          return r;
        } catch (err: unknown) {
          const error = err instanceof Error ? err : new Error(String(err));
          const d = cfg?.retryStrategy?.(error, attempt) ?? { shouldRetry: attempt < 6, delay: { seconds: 2 ** attempt } };
          await this.e.checkpoint();
          if (!d.shouldRetry) throw new EngineError('StepError', error.message, { cause: error });
          await this.e.clock.sleep(ms(d.delay));
        }
      }
    });
  }

  invoke<I, O>(name: string, fn: string, payload: I): Promise<O> {
    return this.e.record(name, 'invoke', this.depth, async () => {
      await this.e.checkpoint();
      await this.e.clock.sleep(this.e.platform.engine.invokeDispatchMs.value);
      try {
        const r = (await this.e.lambda.invoke(fn, payload)) as O;
        await this.e.checkpoint();
        return r;
      } catch (err: unknown) {
        await this.e.checkpoint();
        throw new EngineError('InvokeError', err instanceof Error ? err.message : String(err), { cause: err });
      }
    });
  }

  runInChildContext<T>(name: string, fn: (c: DurableContext) => Promise<T>): Promise<T> {
    return this.e.record(name, 'child', this.depth, async () => {
      try {
        const r = await fn(new SimContext(this.e, this.depth + 1) as unknown as DurableContext);
        return r;
      } catch (err: unknown) {
        throw new EngineError('ChildContextError', err instanceof Error ? err.message : String(err), { cause: err });
      }
    });
  }

  wait(name: string, d: Duration): Promise<void> {
    return this.e.record(name, 'wait', this.depth, async () => {
      await this.e.checkpoint();
      await this.e.clock.sleep(ms(d));
    });
  }

  waitForCondition<S>(
    name: string,
    check: (state: S, ctx: { attempt: number }) => Promise<S>,
    cfg: { initialState: S; waitStrategy: (state: S, attempt: number) => { shouldContinue: boolean; delay?: Duration } },
  ): Promise<S> {
    return this.e.record(name, 'waitForCondition', this.depth, async () => {
      let state = cfg.initialState;
      for (let attempt = 1; ; attempt++) {
        state = await check(state, { attempt });
        await this.e.checkpoint();
        const d = cfg.waitStrategy(state, attempt);
        if (!d.shouldContinue) return state;
        await this.e.clock.sleep(ms(d.delay));
      }
    });
  }

  map<I, O>(
    name: string,
    items: I[],
    fn: (c: DurableContext, item: I, index: number) => Promise<O>,
    cfg?: { maxConcurrency?: number; itemNamer?: (item: I, index: number) => string },
  ): Promise<BatchResult<O>> {
    return this.e.record(name, 'map', this.depth, async () => {
      const all: BatchItem<O>[] = new Array(items.length);
      let next = 0;
      const worker = async () => {
        while (next < items.length) {
          const i = next++;
          const itemName = cfg?.itemNamer?.(items[i]!, i) ?? `${name} ${i}`;
          try {
            const child = new SimContext(this.e, this.depth + 1);
            const result = await child.runInChildContext(itemName, (c) => fn(c, items[i]!, i));
            all[i] = { index: i, result, status: 'SUCCEEDED' } as unknown as BatchItem<O>;
          } catch (err: unknown) {
            all[i] = { index: i, error: err, status: 'FAILED' } as unknown as BatchItem<O>;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(cfg?.maxConcurrency ?? items.length, items.length)) }, worker));
      await this.e.checkpoint();
      const failed = all.filter((x) => (x as { status: string }).status === 'FAILED');
      return {
        all,
        succeeded: () => all.filter((x) => (x as { status: string }).status === 'SUCCEEDED'),
        failed: () => failed,
        hasFailure: failed.length > 0,
      } as unknown as BatchResult<O>;
    });
  }
}
