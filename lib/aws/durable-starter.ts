/** The Starter port over Lambda's Invoke: one durable execution of the job function per job id. */
import { InvokeCommand, ListDurableExecutionsByFunctionCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { Starter } from '../pipeline/start.ts';
import { PipelineError } from '../errors.ts';

/**
 * Starts the job's execution asynchronously under its job id as DurableExecutionName: the engine
 * answers a second start of a running execution of that name and payload with the same
 * execution, so a duplicate event starts nothing new. An execution of that name that has ended
 * is reported, not started again (the caller moves to the next generation). `jobFunction` is
 * qualified (`name:alias`): a durable function cannot be invoked unqualified.
 */
export function durableStarter(client: LambdaClient, jobFunction: string): Starter {
  const statusOf = executionStatusOf(client, jobFunction);
  return {
    async start(input) {
      const status = await statusOf(input.jobId);
      if (status === 'RUNNING') return 'running';
      if (status !== null) return 'ended';
      try {
        const out = await client.send(
          new InvokeCommand({
            FunctionName: jobFunction,
            InvocationType: 'Event',
            DurableExecutionName: input.jobId,
            Payload: new TextEncoder().encode(JSON.stringify(input)),
          }),
        );
        if (out.StatusCode !== 202)
          throw new PipelineError(`starting job ${input.jobId} on ${jobFunction} returned status ${out.StatusCode}`);
        return 'started';
      } catch (e: unknown) {
        // Started meanwhile, with this name: what an event delivered twice at once finds.
        if ((e as { name?: string }).name === 'DurableExecutionAlreadyStartedException') return 'running';
        throw e;
      }
    },
  };
}

/** The engine's status of the job function's newest execution named `jobId`, or null when it has none. */
export function executionStatusOf(client: LambdaClient, jobFunction: string): (jobId: string) => Promise<string | null> {
  // The function itself: executions run a version, whichever alias started them (`name:live` → `name`).
  const unqualified = jobFunction.split(':').length % 2 === 0 ? jobFunction.slice(0, jobFunction.lastIndexOf(':')) : jobFunction;
  return async (jobId) => {
    const listed = await client.send(
      new ListDurableExecutionsByFunctionCommand({ FunctionName: unqualified, DurableExecutionName: jobId, ReverseOrder: true }),
    );
    return listed.DurableExecutions?.[0]?.Status ?? null;
  };
}
