import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { s3ClientFor } from '../../lib/emulators/moto.ts';
import { startLocalStack, type LocalStack } from '../../lib/emulators/local-stack.ts';
import { localJobSettings } from '../../lib/emulators/serverless-pipeline.ts';
import { eventBridgeObjectCreated } from '../../lib/aws/s3-event.ts';
import { writeTracksParquet } from '../../lib/generate/write-parquet.ts';
import { DEFAULT_PREFIXES } from '../../lib/pipeline/keys.ts';
import { METRIC } from '../../lib/observability/metric-names.ts';
import { s3Endpoint } from '../helpers/s3.ts';
import { useTmp } from '../helpers/tmp.ts';

const BUCKET = 'retry-metrics';
const tmp = useTmp();
let s3: S3Client;
let stack: LocalStack;
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  s3 = s3ClientFor(s3Endpoint());
  const logs = new PassThrough();
  let text = '';
  logs.on('data', (c: Buffer) => (text += c.toString('utf8')));
  let failed = false;
  stack = await startLocalStack({
    s3,
    bucket: BUCKET,
    logs,
    config: { ...localJobSettings, shardRows: 1 << 20, statsPartRows: 1 << 24, parquet: false, prefixes: DEFAULT_PREFIXES },
    // The first embed invocation dies once, below the handler's telemetry: the job retries it.
    wrapStore: (store) => ({
      ...store,
      bucket: store.bucket,
      async put(key, body, type) {
        if (!failed && key.includes('/shards/')) {
          failed = true;
          throw new Error('injected: the shard write failed');
        }
        return store.put(key, body, type);
      },
    }),
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const input = join(tmp(), 'retried.parquet');
  await writeTracksParquet(input, { rows: 500, seed: 3 });
  const key = 'incoming/retried.parquet';
  const { ETag } = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: await readFile(input) }));
  await stack.lambda.send(
    new InvokeCommand({
      FunctionName: 'start',
      InvocationType: 'Event',
      Payload: JSON.stringify(eventBridgeObjectCreated(BUCKET, key, ETag!)),
    }),
  );
  await stack.idle();
  for (const l of text.split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

const metric = (step: string, name: string) => lines.filter((l) => '_aws' in l && l.step === step && name in l).map((l) => l[name]);

describe('a step that fails once and is retried', () => {
  it('counts the failure, logs it as an error with the job id, counts the retry, and the job still publishes', () => {
    expect(metric('embed', METRIC.stepFailures)).toEqual([1]);
    expect(metric('embed', METRIC.retries)).toEqual([1]);
    expect(metric('job', METRIC.jobsPublished)).toEqual([1]);
    const error = lines.find((l) => l.level === 'ERROR' && l.step === 'embed')!;
    expect(error).toMatchObject({ message: 'embed failed', key: 'incoming/retried.parquet' });
    expect(typeof error.jobId).toBe('string');
    expect(JSON.stringify(error.error)).toContain('injected: the shard write failed');
    expect(lines.some((l) => l.level === 'WARN' && l.message === 'retry' && l.attempt === 2)).toBe(true);
  });
});
