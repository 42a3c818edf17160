/**
 * Simulated Lambda: functions with their memory, execution environments that start cold and are
 * reused warm, 1,000 new environments per 10 s per function, the account's concurrency, CPU in
 * proportion to memory (shared cores locally), the 15-minute timeout and the memory limit.
 * Each invocation is recorded (start, end, cold, GB-s) for the report and the picture.
 */
import type { ObjectStore } from '../pipeline/object-store.ts';
import type { Platform } from './figures.ts';
import type { SimBucket } from './sim-s3.ts';
import { SharedRate, type Clock } from './clock.ts';

/** What a simulated function body gets: its S3, its CPU and a memory check. */
export interface Environment {
  objects: ObjectStore;
  /** Runs `coreMs` of one of this machine's cores' work on the environment's CPU. */
  cpu(coreMs: number): Promise<void>;
  /** Throws, as Lambda ends the invocation, when `mib` exceeds the function's memory. */
  needs(mib: number, what: string): void;
}

export interface SimFunction {
  name: string;
  memoryMb: number;
  handler: (payload: unknown, env: Environment) => Promise<unknown>;
}

export interface Invocation {
  fn: string;
  start: number;
  end: number;
  cold: boolean;
  ok: boolean;
  error?: string;
  /** Waited for an environment (scaling rate, account concurrency). */
  queuedMs: number;
  peakMiB: number;
}

/** The function failed: the error the invoke's caller sees. */
export class FunctionError extends Error {
  override name = 'FunctionError';
}

interface FnState {
  fn: SimFunction;
  idle: EnvState[];
  tokens: number;
  tokensAt: number;
}
interface EnvState {
  cpu: SharedRate;
  net: SharedRate;
}

export class SimLambda {
  readonly invocations: Invocation[] = [];
  private readonly fns = new Map<string, FnState>();
  private running = 0;
  private waiters: (() => void)[] = [];
  private readonly sharedCpu: SharedRate | null;

  constructor(
    private readonly clock: Clock,
    private readonly bucket: SimBucket,
    private readonly platform: Platform,
    functions: readonly SimFunction[],
  ) {
    const burst = platform.lambda.newEnvironmentsPer10s.value;
    for (const fn of functions) this.fns.set(fn.name, { fn, idle: [], tokens: burst, tokensAt: 0 });
    const cores = platform.lambda.sharedCores.value;
    this.sharedCpu = cores > 0 ? new SharedRate(clock, cores / platform.lambda.cpuScale.value, 1 / platform.lambda.cpuScale.value) : null;
  }

  /** Invokes `name` synchronously (the engine's chained invoke); throws FunctionError when it fails. */
  async invoke(name: string, payload: unknown): Promise<unknown> {
    const st = this.fns.get(name);
    if (!st) throw new FunctionError(`ResourceNotFoundException: function ${name}`);
    const asked = this.clock.now;
    const { env, cold } = await this.acquire(st);
    const rec: Invocation = { fn: name, start: this.clock.now, end: 0, cold, ok: false, queuedMs: this.clock.now - asked, peakMiB: 0 };
    this.invocations.push(rec);
    const l = this.platform.lambda;
    const timeoutMs = l.timeoutS.value * 1000;
    let timedOut = false;
    const alive = () => !timedOut;
    try {
      if (cold) await this.clock.sleep(l.coldStartMs.value);
      const environment: Environment = {
        objects: this.bucket.client(env.net, alive),
        // A timed-out invocation is ended: its work never finishes.
        cpu: (coreMs) => (alive() ? env.cpu.use(coreMs).then(() => (alive() ? undefined : NEVER)) : NEVER),
        needs: (mib, what) => {
          rec.peakMiB = Math.max(rec.peakMiB, mib);
          if (mib > st.fn.memoryMb)
            throw new FunctionError(`Runtime.OutOfMemory: ${name} needs ${Math.round(mib)} MiB for ${what}, has ${st.fn.memoryMb} MB`);
        },
      };
      const result = await Promise.race([
        st.fn.handler(payload, environment),
        this.clock.sleep(timeoutMs - (this.clock.now - rec.start)).then(() => {
          timedOut = true;
          return TIMEOUT;
        }),
      ]);
      if (result === TIMEOUT) throw new FunctionError(`Task timed out after ${l.timeoutS.value.toFixed(2)} seconds`);
      rec.ok = true;
      return result;
    } catch (e: unknown) {
      rec.error = e instanceof Error ? e.message : String(e);
      throw e instanceof FunctionError ? e : new FunctionError(rec.error, { cause: e });
    } finally {
      rec.end = this.clock.now;
      this.release(st, timedOut ? null : env);
    }
  }

  private async acquire(st: FnState): Promise<{ env: EnvState; cold: boolean }> {
    const l = this.platform.lambda;
    for (;;) {
      if (this.running < l.accountConcurrency.value) {
        const warm = st.idle.pop();
        if (warm) {
          this.running++;
          return { env: warm, cold: false };
        }
        const rate = l.newEnvironmentsPer10s.value / 10_000;
        if (Number.isFinite(rate)) {
          st.tokens = Math.min(l.newEnvironmentsPer10s.value, st.tokens + (this.clock.now - st.tokensAt) * rate);
          st.tokensAt = this.clock.now;
        }
        if (!Number.isFinite(rate) || st.tokens >= 1) {
          if (Number.isFinite(rate)) st.tokens -= 1;
          this.running++;
          return { env: this.newEnvironment(st.fn), cold: true };
        }
        await this.clock.sleep((1 - st.tokens) / rate);
        continue;
      }
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  private release(st: FnState, env: EnvState | null): void {
    this.running--;
    if (env) st.idle.push(env);
    const w = this.waiters.shift();
    if (w) w();
  }

  private newEnvironment(fn: SimFunction): EnvState {
    const l = this.platform.lambda;
    const s3 = this.platform.s3;
    // Single-threaded steps: at most one vCPU's worth, less below 1,769 MB.
    const vcpu = Math.min(1, fn.memoryMb / l.mbPerVcpu.value) / l.cpuScale.value;
    return {
      cpu: this.sharedCpu ?? new SharedRate(this.clock, vcpu, vcpu),
      net: new SharedRate(this.clock, s3.callerMBps.value * 1e3, s3.connectionMBps.value * 1e3),
    };
  }
}

const TIMEOUT: unique symbol = Symbol('timeout');
const NEVER = new Promise<never>(() => undefined);
