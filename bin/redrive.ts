#!/usr/bin/env node
/**
 * redrive s3://BUCKET/incoming/NAME.parquet
 * Re-invokes the unfinished work of the job for the object's current version (its shards, its
 * statistics parts, its reduce, or its statistics step) and says what it invoked; a job that has
 * ended is left alone. Uses the standard SDK environment, and the function names as the stack
 * sets them: STATS_FUNCTION_NAME, EMBED_FUNCTION_NAME, REDUCE_FUNCTION_NAME.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { s3ClientFromEnv } from '../lib/aws/clients.ts';
import { readConfig } from '../lib/aws/config.ts';
import { stepContext } from '../lib/aws/handlers.ts';
import { redrive } from '../lib/pipeline/reconcile-step.ts';
import { SourceError, messageOf } from '../lib/errors.ts';
import { runCli, s3ObjectArg } from '../lib/cli/options.ts';

const USAGE = 'usage: npm run redrive -- s3://BUCKET/KEY.parquet';

async function main(argv: string[]): Promise<number> {
  const { bucket, key } = s3ObjectArg(argv);
  const config = readConfig();
  const ctx = stepContext({ s3: s3ClientFromEnv(), lambda: new LambdaClient({}), config }, bucket);
  let result;
  try {
    const etag = await ctx.store.currentEtag(key);
    if (!etag) throw new SourceError(`s3://${bucket}/${key}: no such object`);
    result = await redrive(ctx, { key, etag });
  } catch (e: unknown) {
    if (e instanceof SourceError) throw e;
    throw new SourceError(`cannot redrive the job of s3://${bucket}/${key}: ${messageOf(e)}`, { cause: e });
  }
  const what = result.invoked.length > 0 ? `re-invoked ${result.invoked.join(', ')}` : 'nothing to redrive';
  process.stdout.write(`s3://${bucket}/${key}: job ${result.jobId} (${result.stage}): ${what}\n`);
  return 0;
}

runCli(main, USAGE);
