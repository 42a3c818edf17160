/** The Invoker port over Lambda's asynchronous invoke (InvocationType Event). */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { Invoker } from '../pipeline/invoker.ts';
import type { Config } from './config.ts';
import { PipelineError } from '../errors.ts';

/** Invokes `fn` asynchronously with a small JSON payload; anything but 202 Accepted is an error. */
export async function invokeAsync(client: LambdaClient, fn: string, payload: unknown): Promise<void> {
  const body = new TextEncoder().encode(JSON.stringify(payload));
  const out = await client.send(new InvokeCommand({ FunctionName: fn, InvocationType: 'Event', Payload: body }));
  if (out.StatusCode !== 202) throw new PipelineError(`async invoke of ${fn} returned status ${out.StatusCode}`);
}

/** Each kind of work goes to the function the configuration names for it. */
export function lambdaInvoker(client: LambdaClient, config: Pick<Config, 'statsFunction' | 'embedFunction' | 'reduceFunction'>): Invoker {
  return {
    stats: (p) => invokeAsync(client, config.statsFunction, p),
    embed: (p) => invokeAsync(client, config.embedFunction, p),
    statsPart: (p) => invokeAsync(client, config.statsFunction, p),
    reduce: (p) => invokeAsync(client, config.reduceFunction, p),
  };
}
