/** `track-embeddings status s3://BUCKET/incoming/NAME.parquet`: where the object's job stands. */
import { s3Store } from '../../lib/aws/s3-store.ts';
import { s3ClientFromEnv, sdkProblem } from '../../lib/aws/clients.ts';
import { describeStatus, jobStatus } from '../../lib/pipeline/status.ts';
import { JobStore } from '../../lib/pipeline/job-store.ts';
import { readPrefixes } from '../../lib/aws/config.ts';
import { SourceError } from '../../lib/errors.ts';
import { ENV } from '../../lib/aws/env.ts';
import { executionStatusOf } from '../../lib/aws/durable-starter.ts';
import { s3ObjectArg } from '../../lib/cli/options.ts';
import { positionals, type Command } from '../../lib/cli/command.ts';
import { quietSdkWarning } from '../../lib/cli/node-version.ts';

export const ENVIRONMENT = `ENVIRONMENT
  The standard AWS SDK variables: AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_REGION,
  AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL_LAMBDA for local endpoints (region us-east-1 when unset).`;

export const command: Command = {
  name: 'status',
  summary:
    'Say where the job of an uploaded object stands: queued, computing statistics, running, done, failed (and why), refused, ended by the engine unrecorded, or no such object',
  usage: 's3://BUCKET/KEY.parquet',
  arguments: [['s3://BUCKET/KEY', 'The uploaded object; its current version’s job is described']],
  options: {},
  notes: `${ENVIRONMENT}
  JOB_FUNCTION_NAME (optional; the stack's JobFunction output): also ask the engine about an
  unfinished job, so that one whose execution ended without an ending (its timeout) says so.
  The job's execution, step by step, is in the Lambda console (the job function's durable executions).

EXIT STATUS
  0 done or still running, 1 failed, refused, ended by the engine unrecorded, or no such object, 2 usage error.`,
  examples: [
    'AWS_PROFILE=prod track-embeddings status s3://my-bucket/incoming/tracks.parquet',
    'AWS_ENDPOINT_URL_S3=http://127.0.0.1:5000 track-embeddings status s3://track-embeddings-local/incoming/tracks.parquet',
  ],
  async run(args) {
    quietSdkWarning();
    const { bucket, key } = s3ObjectArg(positionals(this, args, ['s3://BUCKET/KEY']));
    const client = s3ClientFromEnv();
    // With the job function named, the engine's word on an unfinished job's execution too.
    const jobFunction = process.env[ENV.jobFunction];
    const lambda = jobFunction ? await lambdaClient() : undefined;
    let status;
    try {
      const executions = lambda && jobFunction ? executionStatusOf(lambda, jobFunction) : undefined;
      status = await jobStatus(new JobStore(s3Store(client, bucket), readPrefixes()), key, executions);
    } catch (e: unknown) {
      // Credentials, endpoint or permissions: the reader's environment, not a bug here.
      throw new SourceError(`cannot read the job of s3://${bucket}/${key}: ${sdkProblem(e)}`, { cause: e });
    } finally {
      client.destroy();
      lambda?.destroy();
    }
    process.stdout.write(`${describeStatus(status, bucket)}\n`);
    return ['failed', 'missing', 'refused', 'ended-unrecorded'].includes(status.state) ? 1 : 0;
  },
};

async function lambdaClient() {
  const [{ LambdaClient }, { localRegion }] = await Promise.all([import('@aws-sdk/client-lambda'), import('../../lib/aws/clients.ts')]);
  return new LambdaClient({ region: localRegion(process.env, process.env.AWS_ENDPOINT_URL_LAMBDA) });
}
