/** The on-failure destination of the embed function: a shard that failed after its retries fails its job. */
import { awsClients, pipelineConfig } from '../../lib/aws.ts';
import { s3Store } from '../../lib/s3-store.ts';
import { isEmbedPayload, markShardFailed, type FailureRecord } from '../../lib/job-failure.ts';

export async function handler(record: FailureRecord): Promise<{ failedJob: string | null }> {
  const config = pipelineConfig();
  const payload = record?.requestPayload;
  if (!isEmbedPayload(payload)) return { failedJob: null };
  return { failedJob: await markShardFailed(s3Store(awsClients().s3, payload.bucket), record, config.prefixes) };
}
