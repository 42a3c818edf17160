/**
 * `track-embeddings redrive s3://BUCKET/KEY.parquet | --queue URL`: run a failed (or never
 * started) job again, or replay the dead-letter queue of S3 events that could not start one.
 */
import { clientsFromEnv, sdkProblem } from '../../lib/aws/clients.ts';
import { readStartConfig } from '../../lib/aws/config.ts';
import { durableStarter } from '../../lib/aws/durable-starter.ts';
import { startHandler, storeOf } from '../../lib/aws/handlers.ts';
import { startJob, type StartOutcome } from '../../lib/pipeline/start.ts';
import { PipelineError, SourceError, UsageError } from '../../lib/errors.ts';
import { s3ObjectArg } from '../../lib/cli/options.ts';
import { type Command } from '../../lib/cli/command.ts';
import { quietSdkWarning } from '../../lib/cli/node-version.ts';
import { ENVIRONMENT } from './status.ts';

export const command: Command = {
  name: 'redrive',
  summary: 'Run a failed job again (the same bytes, a new run), or replay the dead-letter queue of events that started no job',
  usage: 's3://BUCKET/KEY.parquet | --queue URL',
  arguments: [['s3://BUCKET/KEY', 'The uploaded object whose current version’s job is run again; a job running or done is left alone']],
  options: {
    queue: {
      type: 'string',
      value: 'URL',
      description: 'Replay every event in this dead-letter queue (the stack’s DeadLetterQueueUrl output)',
    },
  },
  notes: `${ENVIRONMENT}
  JOB_FUNCTION_NAME: the job function, qualified (the stack's JobFunction output, ending in :live).`,
  examples: [
    'JOB_FUNCTION_NAME=arn:aws:lambda:eu-west-1:…:function:TrackEmbeddings-job:live track-embeddings redrive s3://my-bucket/incoming/tracks.parquet',
    'JOB_FUNCTION_NAME=… track-embeddings redrive --queue https://sqs.eu-west-1.amazonaws.com/…/TrackEmbeddings-events-dlq',
  ],
  async run(args) {
    quietSdkWarning();
    const queue = args.values.queue as string | undefined;
    if (queue && args.positionals.length > 0) throw new UsageError('give either s3://BUCKET/KEY or --queue URL, not both');
    if (!queue && args.positionals.length !== 1) throw new UsageError('expected s3://BUCKET/KEY or --queue URL');
    const config = readStartConfig();
    const clients = clientsFromEnv();
    const starter = durableStarter(clients.lambda, config.jobFunction);
    const deps = { s3: clients.s3, prefixes: config.prefixes, starter };
    try {
      if (queue) return await replay(queue, startHandler(deps));
      const { bucket, key } = s3ObjectArg(args.positionals);
      const outcome = await startJob(storeOf(deps, bucket), starter, { key, etag: null });
      process.stdout.write(`s3://${bucket}/${key}: ${describe(outcome)}\n`);
      return outcome.status === 'refused' || outcome.status === 'ignored' ? 1 : 0;
    } catch (e: unknown) {
      if (e instanceof PipelineError || e instanceof UsageError) throw e;
      throw new SourceError(`cannot redrive: ${sdkProblem(e)}`, { cause: e });
    } finally {
      clients.s3.destroy();
      clients.lambda.destroy();
    }
  },
};

async function replay(queueUrl: string, start: (event: unknown) => Promise<StartOutcome[]>): Promise<number> {
  const [{ SQSClient }, { replayDeadLetters }] = await Promise.all([
    import('@aws-sdk/client-sqs'),
    import('../../lib/aws/dead-letters.ts'),
  ]);
  const sqs = new SQSClient({});
  try {
    const report = await replayDeadLetters(sqs, queueUrl, async (event) => {
      for (const o of await start(event)) process.stdout.write(`${'key' in o ? o.key : o.jobId}: ${describe(o)}\n`);
    });
    process.stdout.write(`${report.replayed} event(s) replayed, ${report.failed.length} failed again (left in the queue)\n`);
    for (const f of report.failed) process.stderr.write(`message ${f.messageId}: ${f.message}\n`);
    return report.failed.length > 0 ? 1 : 0;
  } finally {
    sqs.destroy();
  }
}

function describe(o: StartOutcome): string {
  switch (o.status) {
    case 'started':
      return `job ${o.jobId} started${o.generation > 0 ? ` (run ${o.generation + 1} of these bytes)` : ''}, or already running`;
    case 'already-published':
      return 'this version is already published: nothing to do';
    case 'refused':
      return `refused: ${o.message}`;
    case 'ignored':
      return `ignored: ${o.reason}`;
  }
}
