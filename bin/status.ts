#!/usr/bin/env node
/**
 * status s3://BUCKET/incoming/NAME.parquet
 * Where the job for the object's current version stands, and whether it is stalled. Uses the
 * standard SDK environment (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_S3 for a local S3 API such
 * as moto); STALL_TIMEOUT_SECONDS and MAX_REDRIVES as the stack sets them (defaults 2880 and 3).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { s3Store } from '../lib/aws/s3-store.ts';
import { describeStatus, jobStatus } from '../lib/pipeline/status.ts';
import { JobStore } from '../lib/pipeline/job-store.ts';
import { readPrefixes, recoveryFrom } from '../lib/aws/config.ts';
import { SourceError, messageOf } from '../lib/errors.ts';
import { runCli, s3ObjectArg } from '../lib/cli/options.ts';

const USAGE = 'usage: npm run status -- s3://BUCKET/KEY.parquet';

async function main(argv: string[]): Promise<number> {
  const { bucket, key } = s3ObjectArg(argv);
  const prefixes = readPrefixes();
  const client = new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3) });
  let status;
  try {
    status = await jobStatus(new JobStore(s3Store(client, bucket), prefixes), key, { now: Date.now(), ...recoveryFrom(process.env) });
  } catch (e: unknown) {
    // Credentials, endpoint or permissions: the reader's environment, not a bug here.
    throw new SourceError(`cannot read the job of s3://${bucket}/${key}: ${messageOf(e)}`, { cause: e });
  }
  process.stdout.write(`${describeStatus(status, bucket)}\n`);
  return status.state === 'failed' || status.state === 'missing' ? 1 : 0;
}

runCli(main, USAGE);
