/** `track-embeddings redrive s3://BUCKET/incoming/NAME.parquet`: re-invoke a stalled job's unfinished work. */
import { clientsFromEnv, sdkProblem } from '../../lib/aws/clients.ts';
import { readConfig } from '../../lib/aws/config.ts';
import { stepContext } from '../../lib/aws/handlers.ts';
import { redrive } from '../../lib/pipeline/reconcile-step.ts';
import { SourceError } from '../../lib/errors.ts';
import { s3ObjectArg } from '../../lib/cli/options.ts';
import { positionals, type Command } from '../../lib/cli/command.ts';
import { quietSdkWarning } from '../../lib/cli/node-version.ts';
import { ENVIRONMENT } from './status.ts';

export const command: Command = {
  name: 'redrive',
  summary: 'Re-invoke the unfinished work of a job (shards, statistics parts, reduce); an ended job is left alone',
  usage: 's3://BUCKET/KEY.parquet',
  arguments: [['s3://BUCKET/KEY', 'The uploaded object whose current job is redriven']],
  options: {},
  notes: `${ENVIRONMENT}
  STATS_FUNCTION_NAME, EMBED_FUNCTION_NAME, REDUCE_FUNCTION_NAME: the functions, as the stack names them (see its outputs).`,
  examples: [
    'STATS_FUNCTION_NAME=… EMBED_FUNCTION_NAME=… REDUCE_FUNCTION_NAME=… track-embeddings redrive s3://my-bucket/incoming/tracks.parquet',
  ],
  async run(args) {
    quietSdkWarning();
    const { bucket, key } = s3ObjectArg(positionals(this, args, ['s3://BUCKET/KEY']));
    const config = readConfig();
    const clients = clientsFromEnv();
    const ctx = stepContext({ ...clients, config }, bucket);
    let result;
    try {
      const etag = await ctx.store.currentEtag(key);
      if (!etag) throw new SourceError(`s3://${bucket}/${key}: no such object`);
      result = await redrive(ctx, { key, etag });
    } catch (e: unknown) {
      if (e instanceof SourceError) throw e;
      throw new SourceError(`cannot redrive the job of s3://${bucket}/${key}: ${sdkProblem(e)}`, { cause: e });
    } finally {
      clients.s3.destroy();
      clients.lambda.destroy();
    }
    const what = result.invoked.length > 0 ? `re-invoked ${result.invoked.join(', ')}` : 'nothing to redrive';
    process.stdout.write(`s3://${bucket}/${key}: job ${result.jobId} (${result.stage}): ${what}\n`);
    return 0;
  },
};
