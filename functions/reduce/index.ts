/** Stitches a finished job's shards into the published outputs, manifest last. */
import { setTimeout as wait } from 'node:timers/promises';
import { awsClients, pipelineConfig } from '../../lib/aws/clients.ts';
import { s3Store } from '../../lib/aws/s3-store.ts';
import { runReduce, type ReduceOutcome } from '../../lib/pipeline/reduce-step.ts';
import { PipelineError } from '../../lib/errors.ts';

export async function handler(event: { bucket?: unknown; jobId?: unknown }): Promise<ReduceOutcome> {
  const config = pipelineConfig();
  if (typeof event?.bucket !== 'string' || typeof event?.jobId !== 'string') {
    throw new PipelineError(`expected { bucket, jobId }, got ${JSON.stringify(event)?.slice(0, 200)}`);
  }
  return runReduce(s3Store(awsClients().s3, event.bucket), event.jobId, config.prefixes, (ms) => wait(ms));
}
