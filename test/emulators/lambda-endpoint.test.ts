import {
  InvalidParameterValueException,
  InvalidRequestContentException,
  InvokeCommand,
  LambdaClient,
  LambdaServiceException,
  ResourceNotFoundException,
  type InvokeCommandInput,
} from '@aws-sdk/client-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ASYNC_PAYLOAD_LIMIT,
  LocalLambdaError,
  SYNC_PAYLOAD_LIMIT,
  startLocalLambda,
  type LambdaContextLike,
  type LocalFunction,
  type LocalLambda,
} from '../../lib/emulators/lambda/index.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const running: Array<{ lambda: LocalLambda; client: LambdaClient }> = [];

afterEach(async () => {
  for (const { lambda, client } of running.splice(0)) {
    client.destroy();
    await lambda.close();
  }
});

/** A local endpoint hosting `functions`, and a real SDK client pointed at it. */
async function setup(functions: Record<string, LocalFunction>): Promise<{ lambda: LocalLambda; client: LambdaClient }> {
  const lambda = await startLocalLambda({ functions });
  const client = new LambdaClient({
    endpoint: lambda.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  running.push({ lambda, client });
  return { lambda, client };
}

function invoke(client: LambdaClient, input: Omit<InvokeCommandInput, 'Payload'> & { event?: unknown }) {
  const { event, ...rest } = input;
  const Payload = event === undefined ? undefined : encoder.encode(JSON.stringify(event));
  return client.send(new InvokeCommand({ ...rest, Payload }));
}

function json(payload: Uint8Array | undefined): unknown {
  return JSON.parse(decoder.decode(payload));
}

/** A JSON string literal that is exactly `bytes` long once encoded. */
function jsonOfSize(bytes: number): Uint8Array {
  return encoder.encode(`"${'a'.repeat(bytes - 2)}"`);
}

/** A promise the test opens by hand, to hold handlers in flight. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = (): void => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** A handler that records the events it receives and then does what `behave` says. */
function recorder(behave: (event: unknown, call: number) => Promise<unknown> = async () => ({ ok: true })) {
  const events: unknown[] = [];
  const fn: LocalFunction = {
    handler: async (event) => {
      events.push(event);
      return behave(event, events.length);
    },
  };
  return { events, fn };
}

describe('RequestResponse', () => {
  it('returns the handler result with status 200 and a Lambda-shaped context', async () => {
    let seen: LambdaContextLike | undefined;
    const { client } = await setup({
      echo: {
        handler: async (event, context) => {
          seen = context;
          return { echoed: event };
        },
      },
    });

    const out = await invoke(client, { FunctionName: 'echo', event: { shard: 3 } });

    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBeUndefined();
    expect(out.ExecutedVersion).toBe('$LATEST');
    expect(json(out.Payload)).toEqual({ echoed: { shard: 3 } });
    expect(seen).toMatchObject({
      functionName: 'echo',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:echo',
    });
    expect(seen?.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen?.getRemainingTimeInMillis()).toBeGreaterThan(0);
  });

  it('answers null for a handler that returns undefined, as the Node.js runtime does', async () => {
    const { client } = await setup({ quiet: { handler: async () => undefined } });

    const out = await invoke(client, { FunctionName: 'quiet' });

    expect(decoder.decode(out.Payload)).toBe('null');
  });

  it('reports a thrown error as FunctionError Unhandled with the runtime error payload', async () => {
    const { client, lambda } = await setup({
      broken: {
        handler: async () => {
          throw new TypeError('boom');
        },
      },
    });

    const out = await invoke(client, { FunctionName: 'broken', event: {} });

    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe('Unhandled');
    const payload = json(out.Payload) as { errorType: string; errorMessage: string; trace: string[] };
    expect(payload).toMatchObject({ errorType: 'TypeError', errorMessage: 'boom' });
    expect(payload.trace[0]).toBe('TypeError: boom');
    // A synchronous failure is never retried: the caller sees it.
    expect(lambda.invocations.map((i) => i.outcome)).toEqual(['failed']);
  });

  it('turns a handler that outlives its timeout into a Sandbox.Timedout error', async () => {
    const hold = gate();
    const { client } = await setup({ slow: { handler: () => hold.opened, timeoutMs: 20 } });

    const out = await invoke(client, { FunctionName: 'slow' });
    hold.open();

    expect(out.FunctionError).toBe('Unhandled');
    expect(json(out.Payload)).toMatchObject({ errorType: 'Sandbox.Timedout' });
  });

  it('answers DryRun with 204 without running the handler', async () => {
    const { events, fn } = recorder();
    const { client, lambda } = await setup({ fn });

    const out = await invoke(client, { FunctionName: 'fn', InvocationType: 'DryRun', event: {} });

    expect(out.StatusCode).toBe(204);
    await lambda.idle();
    expect(events).toEqual([]);
  });
});

describe('function names', () => {
  it.each([
    ['a full ARN', { FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:echo' }],
    ['a full ARN with a qualifier', { FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:echo:$LATEST' }],
    ['a partial ARN', { FunctionName: '000000000000:function:echo' }],
    ['a name and a Qualifier parameter', { FunctionName: 'echo', Qualifier: '$LATEST' }],
  ])('accepts %s', async (_label, names) => {
    const { client } = await setup({ echo: { handler: async (event) => event } });

    const out = await invoke(client, { ...names, event: { via: 'arn' } });

    expect(json(out.Payload)).toEqual({ via: 'arn' });
  });

  it('rejects an unknown function with ResourceNotFoundException', async () => {
    const { client } = await setup({ echo: { handler: async (event) => event } });

    const call = invoke(client, { FunctionName: 'nope', event: {} });

    await expect(call).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(call).rejects.toThrow('Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope');
  });

  it('refuses to start when onFailure names no local function', async () => {
    const start = startLocalLambda({ functions: { a: { handler: async () => 1, onFailure: 'missing' } } });

    await expect(start).rejects.toBeInstanceOf(LocalLambdaError);
  });
});

describe('durable functions', () => {
  it.each([
    ['its name', { FunctionName: 'job' }],
    ['its full ARN', { FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:job' }],
  ])('refuses an invoke by %s, unqualified, with InvalidParameterValueException (400), and runs nothing', async (_label, names) => {
    const { events, fn } = recorder();
    const { client, lambda } = await setup({ job: { ...fn, durable: true } });

    const call = invoke(client, { ...names, InvocationType: 'Event', event: {} });

    await expect(call).rejects.toThrow(InvalidParameterValueException);
    await expect(call).rejects.toMatchObject({
      message: 'You cannot invoke a durable function using an unqualified ARN.',
      $metadata: { httpStatusCode: 400 },
    });
    await lambda.idle();
    expect(events).toEqual([]);
  });

  it.each([
    ['name:alias', { FunctionName: 'job:live' }],
    ['a Qualifier parameter', { FunctionName: 'job', Qualifier: 'live' }],
    ['a full ARN with an alias', { FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:job:live' }],
  ])(
    'accepts one qualified by %s, and hands X-Amz-Durable-Execution-Name to the handler as durableExecutionName',
    async (_label, names) => {
      const seen: (string | undefined)[] = [];
      const { client, lambda } = await setup({
        job: {
          durable: true,
          handler: async (_event, context) => {
            seen.push(context.durableExecutionName);
            return 'started';
          },
        },
      });

      const sync = await invoke(client, { ...names, DurableExecutionName: 'job-1234', event: {} });
      const async = await invoke(client, { ...names, InvocationType: 'Event', DurableExecutionName: 'job-5678', event: {} });
      await lambda.idle();

      expect([sync.StatusCode, async.StatusCode]).toEqual([200, 202]);
      expect(json(sync.Payload)).toBe('started');
      expect(seen).toEqual(['job-1234', 'job-5678']);
      expect(lambda.invocations.map((i) => i.durableExecutionName)).toEqual(['job-1234', 'job-5678']);
    },
  );

  it('leaves durableExecutionName out of the context of an invoke without the header', async () => {
    let seen: LambdaContextLike | undefined;
    const { client } = await setup({
      echo: {
        handler: async (_event, context) => {
          seen = context;
          return null;
        },
      },
    });

    await invoke(client, { FunctionName: 'echo', event: {} });

    expect(seen).toBeDefined();
    expect(seen).not.toHaveProperty('durableExecutionName');
  });
});

describe('request validation', () => {
  it('rejects a body that is not JSON with InvalidRequestContentException', async () => {
    const { events, fn } = recorder();
    const { client } = await setup({ fn });

    const call = client.send(new InvokeCommand({ FunctionName: 'fn', Payload: encoder.encode('{not json') }));

    await expect(call).rejects.toBeInstanceOf(InvalidRequestContentException);
    expect(events).toEqual([]);
  });

  it('rejects an async payload over 1 MB with RequestEntityTooLargeException and never runs it', async () => {
    const { events, fn } = recorder();
    const { client, lambda } = await setup({ fn });

    const call = client.send(new InvokeCommand({ FunctionName: 'fn', InvocationType: 'Event', Payload: jsonOfSize(2 * 1024 * 1024) }));

    await expect(call).rejects.toBeInstanceOf(LambdaServiceException);
    await expect(call).rejects.toMatchObject({
      name: 'RequestEntityTooLargeException',
      $metadata: { httpStatusCode: 413 },
    });
    await lambda.idle();
    expect(events).toEqual([]);
  });

  it('rejects a synchronous payload over 6 MB with RequestEntityTooLargeException', async () => {
    const { events, fn } = recorder();
    const { client } = await setup({ fn });

    const call = client.send(new InvokeCommand({ FunctionName: 'fn', Payload: jsonOfSize(SYNC_PAYLOAD_LIMIT + 1) }));

    await expect(call).rejects.toMatchObject({ name: 'RequestEntityTooLargeException' });
    expect(events).toEqual([]);
  });

  it.each([
    ['Event', ASYNC_PAYLOAD_LIMIT, 202],
    ['RequestResponse', 2 * 1024 * 1024, 200],
  ] as const)('accepts a %s payload of %i bytes', async (type, bytes, status) => {
    const { events, fn } = recorder(async () => 'ok');
    const { client, lambda } = await setup({ fn });

    const out = await client.send(new InvokeCommand({ FunctionName: 'fn', InvocationType: type, Payload: jsonOfSize(bytes) }));
    await lambda.idle();

    expect(out.StatusCode).toBe(status);
    expect(events).toHaveLength(1);
    expect(lambda.invocations[0]?.payloadBytes).toBe(bytes);
  });
});

describe('Event', () => {
  it('answers 202 before the handler finishes, and idle() waits for it', async () => {
    const hold = gate();
    const { events, fn } = recorder(() => hold.opened);
    const { client, lambda } = await setup({ fn });

    const out = await invoke(client, { FunctionName: 'fn', InvocationType: 'Event', event: { n: 1 } });
    let idled = false;
    const idle = lambda.idle().then(() => {
      idled = true;
    });
    await new Promise<void>((resolve) => setImmediate(resolve));
    const idledWhileHeld = idled;
    hold.open();
    await idle;

    expect(out.StatusCode).toBe(202);
    expect(idledWhileHeld).toBe(false);
    expect(events).toEqual([{ n: 1 }]);
    expect(lambda.invocations).toMatchObject([{ functionName: 'fn', invocationType: 'Event', attempt: 1, outcome: 'succeeded' }]);
  });

  it('retries a failure and stops at the first success, without calling the destination', async () => {
    const { events, fn } = recorder(async (_event, call) => {
      if (call === 1) throw new Error('transient');
      return 'ok';
    });
    const dlq = recorder();
    const { client, lambda } = await setup({ fn: { ...fn, onFailure: 'dlq' }, dlq: dlq.fn });

    await invoke(client, { FunctionName: 'fn', InvocationType: 'Event', event: { n: 2 } });
    await lambda.idle();

    expect(events).toEqual([{ n: 2 }, { n: 2 }]);
    expect(dlq.events).toEqual([]);
    expect(lambda.invocations.map((i) => [i.attempt, i.outcome])).toEqual([
      [1, 'failed'],
      [2, 'succeeded'],
    ]);
  });

  it.each([
    [undefined, 3],
    [0, 1],
    [1, 2],
  ])('with maxRetries %s attempts %i times, then sends the record to onFailure', async (maxRetries, attempts) => {
    const { events, fn } = recorder(async () => {
      throw new RangeError('always');
    });
    const dlq = recorder();
    const failing: LocalFunction = { ...fn, onFailure: 'dlq', ...(maxRetries === undefined ? {} : { maxRetries }) };
    const { client, lambda } = await setup({ fn: failing, dlq: dlq.fn });

    await invoke(client, { FunctionName: 'fn', InvocationType: 'Event', event: { shard: 7 } });
    await lambda.idle();

    expect(events).toHaveLength(attempts);
    expect(dlq.events).toHaveLength(1);
    expect(dlq.events[0]).toMatchObject({
      version: '1.0',
      requestContext: {
        condition: 'RetriesExhausted',
        approximateInvokeCount: attempts,
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn:$LATEST',
      },
      requestPayload: { shard: 7 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'RangeError', errorMessage: 'always' },
    });
    const attemptsLogged = lambda.invocations.filter((i) => i.functionName === 'fn');
    expect(new Set(attemptsLogged.map((i) => i.requestId)).size).toBe(1);
    expect(lambda.invocations.at(-1)).toMatchObject({ functionName: 'dlq', destinationOf: 'fn', outcome: 'succeeded' });
  });

  it('finishes every one of many concurrent invocations before idle() resolves', async () => {
    const count = 40;
    const hold = gate();
    let finished = 0;
    const { client, lambda } = await setup({
      work: {
        handler: async (event) => {
          await hold.opened;
          finished += 1;
          return event;
        },
      },
    });

    const outs = await Promise.all(
      Array.from({ length: count }, (_, i) => invoke(client, { FunctionName: 'work', InvocationType: 'Event', event: { i } })),
    );
    const finishedBeforeOpen = finished;
    const idle = lambda.idle();
    hold.open();
    await idle;

    expect(outs.map((o) => o.StatusCode)).toEqual(Array(count).fill(202));
    expect(finishedBeforeOpen).toBe(0);
    expect(finished).toBe(count);
    expect(lambda.invocations).toHaveLength(count);
  });
});
