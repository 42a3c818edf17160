/** The on-failure destination of stats (uploads and stats parts) and embed: an invocation that failed after its retries fails its job. */
import { awsClients, pipelineConfig } from '../../lib/aws/clients.ts';
import { s3Store } from '../../lib/aws/s3-store.ts';
import { isS3Event, uploadsOf } from '../../lib/aws/s3-event.ts';
import { markShardFailed, markStatsFailed, markStatsPartFailed, type FailureRecord } from '../../lib/pipeline/failure-step.ts';
import { isEmbedPayload, isStatsPartPayload } from '../../lib/pipeline/payloads.ts';

export async function handler(record: FailureRecord): Promise<{ failedJobs: string[] }> {
  const config = pipelineConfig();
  const payload = record?.requestPayload;
  if (isEmbedPayload(payload)) {
    const job = await markShardFailed(s3Store(awsClients().s3, payload.bucket), record, config.prefixes);
    return { failedJobs: job ? [job] : [] };
  }
  if (isStatsPartPayload(payload)) {
    const job = await markStatsPartFailed(s3Store(awsClients().s3, payload.bucket), record, config.prefixes);
    return { failedJobs: job ? [job] : [] };
  }
  const failedJobs: string[] = [];
  for (const { bucket, key, etag } of isS3Event(payload) ? uploadsOf(payload) : []) {
    if (!etag) continue;
    const job = await markStatsFailed(s3Store(awsClients().s3, bucket), { key, etag }, record, config.prefixes);
    if (job) failedJobs.push(job);
  }
  return { failedJobs };
}
