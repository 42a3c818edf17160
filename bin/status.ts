#!/usr/bin/env node
/**
 * status s3://BUCKET/incoming/NAME.parquet
 * Where the job for the object's current version stands. Uses the standard SDK environment
 * (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_S3 for a local S3 API such as moto).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { s3Store } from '../lib/s3-store.ts';
import { describeStatus, jobStatus } from '../lib/job-status.ts';
import { readConfig } from '../lib/config.ts';
import { messageOf } from '../lib/errors.ts';

const USAGE = 'usage: npm run status -- s3://BUCKET/KEY.parquet';

async function main(argv: string[]): Promise<number> {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(argv[0] ?? '');
  if (argv.length !== 1 || !m) {
    process.stderr.write(`error: expected one s3://bucket/key argument\n${USAGE}\n`);
    return 2;
  }
  const [, bucket, key] = m as unknown as [string, string, string];
  // Only the prefixes matter here; the function names are not needed to read a status.
  const { prefixes } = readConfig({ EMBED_FUNCTION_NAME: '-', REDUCE_FUNCTION_NAME: '-', ...process.env });
  const client = new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3) });
  const status = await jobStatus(s3Store(client, bucket), key, prefixes);
  process.stdout.write(`${describeStatus(status, bucket)}\n`);
  return status.state === 'failed' || status.state === 'missing' ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`error: ${messageOf(e)}\n`);
    process.exit(1);
  },
);
