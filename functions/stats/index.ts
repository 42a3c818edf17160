/** S3 ObjectCreated on `incoming/*.parquet` → statistics, plan, one async embed per shard. */
import { awsClients, invokeAsync, mapLimit, pipelineConfig } from '../../lib/aws.ts';
import { s3Store } from '../../lib/s3-store.ts';
import { uploadsOf } from '../../lib/s3-event.ts';
import { runStats, type StatsOutcome } from '../../lib/job-stats.ts';

/** Handles every record of the event; returns what happened to each. */
export async function handler(event: unknown): Promise<StatsOutcome[]> {
  const config = pipelineConfig();
  const outcomes: StatsOutcome[] = [];
  for (const upload of uploadsOf(event)) {
    const { bucket, key } = upload;
    const store = s3Store(awsClients().s3, bucket);
    // Events carry the ETag; without one, pin to the version there now.
    const etag = upload.etag ?? (await store.currentEtag(key));
    if (!etag) {
      outcomes.push({ status: 'ignored', key, reason: 'the object no longer exists' });
      continue;
    }
    const outcome = await runStats(store, { key, etag }, { prefixes: config.prefixes, shardRows: config.shardRows });
    if (outcome.status === 'planned') {
      const { jobId, shards } = outcome.plan;
      await mapLimit(shards, 16, (s) => invokeAsync(config.embedFunction, { bucket, jobId, shard: s.index }));
    }
    outcomes.push(outcome);
  }
  return outcomes;
}
