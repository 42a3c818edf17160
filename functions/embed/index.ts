/** One shard: embed it, write its objects; the last shard to finish invokes the reducer once. */
import { awsClients, invokeAsync, pipelineConfig } from '../../lib/aws/clients.ts';
import { s3Store } from '../../lib/aws/s3-store.ts';
import { runEmbedShard, type EmbedOutcome } from '../../lib/pipeline/embed-step.ts';
import { isEmbedPayload } from '../../lib/pipeline/payloads.ts';
import { PipelineError } from '../../lib/errors.ts';

export async function handler(event: unknown): Promise<EmbedOutcome> {
  const config = pipelineConfig();
  if (!isEmbedPayload(event)) throw new PipelineError(`expected { bucket, jobId, shard }, got ${JSON.stringify(event)?.slice(0, 200)}`);
  const outcome = await runEmbedShard(s3Store(awsClients().s3, event.bucket), event.jobId, event.shard, config.prefixes);
  if (outcome.claimedReduce) await invokeAsync(config.reduceFunction, { bucket: event.bucket, jobId: event.jobId });
  return outcome;
}
