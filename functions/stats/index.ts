/**
 * S3 ObjectCreated on `incoming/*.parquet` → statistics, plan, one async embed per shard.
 * For a large file the statistics fan out: this function is invoked again once per stats part,
 * and the part that completes the plan fans out the shards.
 */
import { awsClients, invokeAsync, mapLimit, pipelineConfig } from '../../lib/aws/clients.ts';
import { s3Store } from '../../lib/aws/s3-store.ts';
import { uploadsOf } from '../../lib/aws/s3-event.ts';
import { runStats, runStatsPart, type StatsOutcome } from '../../lib/pipeline/stats-step.ts';
import { isStatsPartPayload, type EmbedPayload, type StatsPartPayload } from '../../lib/pipeline/payloads.ts';

/** Handles a stats part, or every record of an S3 event; returns what happened to each. */
export async function handler(event: unknown): Promise<StatsOutcome[]> {
  const config = pipelineConfig();
  if (isStatsPartPayload(event)) {
    const outcome = await runStatsPart(s3Store(awsClients().s3, event.bucket), event.jobId, event.statsPart, config.prefixes);
    await fanOut(event.bucket, outcome);
    return [outcome];
  }
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
    const outcome = await runStats(store, { key, etag }, { prefixes: config.prefixes, shardRows: config.shardRows, statsPartRows: config.statsPartRows });
    await fanOut(bucket, outcome);
    outcomes.push(outcome);
  }
  return outcomes;
}

/** One async invoke per shard of a new plan, or per part of a fanned-out statistics pass. */
async function fanOut(bucket: string, outcome: StatsOutcome): Promise<void> {
  const config = pipelineConfig();
  if (outcome.status === 'planned') {
    const { jobId, shards } = outcome.plan;
    await mapLimit(shards, 16, (s) => invokeAsync(config.embedFunction, { bucket, jobId, shard: s.index } satisfies EmbedPayload));
  } else if (outcome.status === 'fanned-out') {
    const parts = Array.from({ length: outcome.parts }, (_, i) => i);
    await mapLimit(parts, 16, (statsPart) => invokeAsync(config.statsFunction, { bucket, jobId: outcome.jobId, statsPart } satisfies StatsPartPayload));
  }
}
