/** The Starter port over Lambda's Invoke: one durable execution of the job function per job id. */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { Starter } from '../pipeline/start.ts';
import { PipelineError } from '../errors.ts';

/**
 * Starts the job's execution asynchronously under its job id as DurableExecutionName: the engine
 * answers a second start of a running execution of that name and payload with the same
 * execution, so a duplicate event starts nothing new. `jobFunction` is qualified (`name:alias`):
 * a durable function cannot be invoked unqualified.
 */
export function durableStarter(client: LambdaClient, jobFunction: string): Starter {
  return {
    async start(input) {
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
      } catch (e: unknown) {
        // Started already, with this name: what an event delivered twice finds.
        if ((e as { name?: string }).name === 'DurableExecutionAlreadyStartedException') return;
        throw e;
      }
    },
  };
}
