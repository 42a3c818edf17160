/**
 * The durable execution engine on one machine: the SDK's own local runner
 * (`@aws/durable-execution-sdk-js-testing`), one runner per execution, with the engine's start
 * semantics kept — an execution is named, and a start with a name already running or finished
 * gets that execution, not a new one. The job's invokes of other functions go out through the
 * real Lambda client to the local Invoke endpoint, as on AWS they go to Lambda.
 */
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import type { DurableLambdaHandler } from '@aws/durable-execution-sdk-js';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';

/** One execution: its name, and how it ended once it has. */
export interface LocalExecution {
  name: string;
  input: unknown;
  /** ms since the epoch. */
  startedAt: number;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  result?: unknown;
  error?: { errorType?: string; errorMessage?: string };
  /** The operations the engine recorded, by name, in order (what the console lists). */
  operations?: string[];
  done: Promise<LocalExecution>;
}

/** Calls a function through the Lambda client (synchronously), as the engine's chained invoke does. */
export type InvokeThrough = (fn: string, payload: unknown) => Promise<unknown>;

let environments = 0;

/** An engine for `handler`, invoking `functions` through `lambda`. */
export class LocalEngine {
  readonly executions = new Map<string, LocalExecution>();

  private constructor(
    private readonly handler: DurableLambdaHandler,
    private readonly functions: readonly string[],
    private readonly invoke: InvokeThrough,
  ) {}

  /** Starts the engine's local checkpoint service (once per process, shared by every engine). */
  static async start(handler: DurableLambdaHandler, functions: readonly string[], invoke: InvokeThrough): Promise<LocalEngine> {
    // Real time: the runner's skipped time fakes the process's clock, which the S3 client's
    // signatures and timeouts also read.
    if (environments++ === 0) await LocalDurableTestRunner.setupTestEnvironment({ skipTime: false });
    return new LocalEngine(handler, functions, invoke);
  }

  /** Starts execution `name` on `input` unless one of that name exists; either way, that execution. */
  start(name: string, input: unknown): LocalExecution {
    const existing = this.executions.get(name);
    if (existing) return existing;
    const runner = new LocalDurableTestRunner({ handlerFunction: this.handler });
    for (const fn of this.functions) {
      runner.registerFunction(fn, async (payload: unknown) => this.invoke(fn, payload));
    }
    const execution: LocalExecution = {
      name,
      input,
      startedAt: Date.now(),
      status: 'RUNNING',
      done: undefined as unknown as Promise<LocalExecution>,
    };
    execution.done = runner.run({ payload: input }).then(
      (r) => {
        execution.status = r.getStatus() === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED';
        if (execution.status === 'SUCCEEDED') execution.result = r.getResult();
        else {
          const e = r.getError() as { errorType?: string; errorMessage?: string } | undefined;
          execution.error = { errorType: e?.errorType, errorMessage: e?.errorMessage };
        }
        execution.operations = r.getOperations().map((o) => o.getName() ?? '');
        return execution;
      },
      (e: unknown) => {
        execution.status = 'FAILED';
        execution.error = { errorType: 'RunnerError', errorMessage: e instanceof Error ? e.message : String(e) };
        return execution;
      },
    );
    this.executions.set(name, execution);
    return execution;
  }

  /** What a start of `name` does here, as the engine answers it: a new execution, the running one, or none (it ended). */
  begin(name: string, input: unknown): 'started' | 'running' | 'ended' {
    const existing = this.executions.get(name);
    if (existing) return existing.status === 'RUNNING' ? 'running' : 'ended';
    this.start(name, input);
    return 'started';
  }

  /** Resolves once every execution started so far has ended. */
  async settled(): Promise<void> {
    let n = -1;
    while (n !== this.executions.size) {
      n = this.executions.size;
      await Promise.all([...this.executions.values()].map((e) => e.done));
    }
  }

  async close(): Promise<void> {
    await this.settled();
    if (--environments === 0) await LocalDurableTestRunner.teardownTestEnvironment();
  }
}

/** `InvokeThrough` over a Lambda client: a function error becomes an Error of its type and message. */
export function invokeThrough(lambda: LambdaClient): InvokeThrough {
  return async (fn, payload) => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: fn, Payload: new TextEncoder().encode(JSON.stringify(payload)) }));
    const body = new TextDecoder().decode(out.Payload ?? new Uint8Array());
    if (out.FunctionError) {
      const error = JSON.parse(body || '{}') as { errorType?: string; errorMessage?: string };
      throw Object.assign(new Error(error.errorMessage ?? `${fn} failed`), { name: error.errorType ?? 'Error' });
    }
    return JSON.parse(body || 'null') as unknown;
  };
}
