/** S3 ObjectCreated on `incoming/*.parquet` → statistics, plan, one async embed per shard. */
import { awsClients, invokeAsync, mapLimit, pipelineConfig } from '../../lib/aws.ts';
import { s3Store } from '../../lib/s3-store.ts';
import { decodeEventKey } from '../../lib/job-keys.ts';
import { runStats, type StatsOutcome } from '../../lib/job-stats.ts';
import { PipelineError } from '../../lib/errors.ts';

interface S3EventRecord {
  eventName?: string;
  s3?: { bucket?: { name?: string }; object?: { key?: string; eTag?: string } };
}

/** Handles every record of the event; returns what happened to each. */
export async function handler(event: { Records?: S3EventRecord[] }): Promise<StatsOutcome[]> {
  const config = pipelineConfig();
  if (!Array.isArray(event?.Records)) throw new PipelineError('not an S3 event: no Records array');
  const outcomes: StatsOutcome[] = [];
  for (const [i, r] of event.Records.entries()) {
    const bucket = r.s3?.bucket?.name;
    const rawKey = r.s3?.object?.key;
    if (!bucket || !rawKey) throw new PipelineError(`record ${i}: missing s3.bucket.name or s3.object.key`);
    const key = decodeEventKey(rawKey);
    const store = s3Store(awsClients().s3, bucket);
    // Events carry the ETag; without one, pin to the version there now.
    const etag = r.s3?.object?.eTag ? `"${r.s3.object.eTag.replace(/"/g, '')}"` : await store.currentEtag(key);
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
