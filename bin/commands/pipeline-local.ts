/** `track-embeddings pipeline-local IN.parquet -o DIR`: the serverless flow on this machine, no AWS, no Docker. */
import { info } from '../../lib/cli/messages.ts';
import { once } from 'node:events';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { MAPPING_FILE } from '../../lib/outputs/file-names.ts';
import { outputFilesNote } from '../../lib/outputs/manifest.ts';
import { runPipelineLocal } from '../../lib/emulators/serverless-pipeline.ts';
import { checkInputFile, checkOutDir } from '../../lib/cli/options.ts';
import { PROGRAM, intOption, positionals, stringOption, usageError, type Command } from '../../lib/cli/command.ts';
import { Progress } from '../../lib/cli/progress.ts';
import { quietSdkWarning } from '../../lib/cli/node-version.ts';

/** The first id of a downloaded mapping, read from its first bytes (a 10M-row mapping is not parsed for one example). */
async function firstId(mappingPath: string): Promise<string> {
  const file = await open(mappingPath, 'r');
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(4096), 0, 4096, 0);
    const m = /^\{("(?:[^"\\]|\\.)*")/.exec(buffer.subarray(0, bytesRead).toString('utf8'));
    return m ? (JSON.parse(m[1]!) as string) : '<a track id>';
  } finally {
    await file.close();
  }
}

export const command: Command = {
  name: 'pipeline-local',
  summary: 'Run the serverless pipeline locally: moto_server as S3, a local Lambda endpoint serving the real handlers',
  usage: 'IN.parquet -o DIR [OPTIONS]',
  arguments: [['IN.parquet', 'The tracks table, uploaded to the local bucket as incoming/<name>']],
  options: {
    out: { type: 'string', short: 'o', value: 'DIR', description: 'Where the published outputs are downloaded (the same bytes as embed)' },
    'shard-rows': { type: 'string', value: 'N', default: '1,048,576', description: 'Rows per embed Lambda' },
    'stats-part-rows': {
      type: 'string',
      value: 'N',
      default: '16,777,216',
      description: 'Rows per statistics part (more rows: statistics fan out)',
    },
    parquet: {
      type: 'boolean',
      description: "Also publish the embeddings as Parquet, one part per shard, downloaded into DIR/parquet/ (the stack's parquetOutput)",
    },
    keep: {
      type: 'boolean',
      description:
        'Keep the S3 API and Lambda endpoint running after the job and print ready status, redrive and query (curl) commands; Ctrl-C stops them',
    },
  },
  notes: 'Needs moto_server (pip install "moto[server]"); the test setup installs it into .moto/venv, which this command also finds.',
  examples: [
    'track-embeddings pipeline-local tracks.parquet -o out',
    'track-embeddings pipeline-local tracks.parquet -o out --shard-rows 50000 --keep',
    'track-embeddings pipeline-local tracks.parquet -o out --shard-rows 50000 --parquet',
  ],
  async run(args) {
    quietSdkWarning();
    const [input] = positionals(this, args, ['IN.parquet']);
    const out = stringOption(args, 'out');
    if (!out) throw usageError(this, 'missing -o/--out DIR');
    // Checked before moto_server starts: a run that is refused does no work and creates nothing.
    checkInputFile(input!);
    checkOutDir(out);
    const t0 = performance.now();
    let bar: Progress | undefined;
    const { manifest, invocations, execution, kept } = await runPipelineLocal({
      input: input!,
      outDir: out,
      shardRows: intOption(this, args, 'shard-rows'),
      statsPartRows: intOption(this, args, 'stats-part-rows'),
      parquet: args.values.parquet === true,
      keep: args.values.keep === true,
      onProgress: (done, total) => (bar ??= new Progress(process.stderr, 'shards', total, 'shards')).update(done),
    });
    bar?.finish();
    const secs = (performance.now() - t0) / 1000;
    info(
      `pipeline: ${manifest.input.rows.toLocaleString('en-US')} rows × ${manifest.dims} dims in ${manifest.shards.count} shard(s), ` +
        `${invocations} Lambda invocations, ${secs.toFixed(2)} s → ${out}/${outputFilesNote(manifest)}\n` +
        `job ${execution.name}: execution ${execution.status}, ${execution.operations.length} durable operations\n`,
    );
    if (!kept) return 0;
    const env = `AWS_ENDPOINT_URL_S3=${kept.s3Endpoint} AWS_REGION=${kept.region} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local`;
    const lambdaEnv = `${env} AWS_ENDPOINT_URL_LAMBDA=${kept.lambdaEndpoint}`;
    const query = JSON.stringify({
      name: manifest.input.name.replace(/^.*\/incoming\//, '').replace(/\.parquet$/i, ''),
      id: await firstId(join(out, MAPPING_FILE)),
      k: 5,
    });
    process.stdout.write(
      `S3 API at ${kept.s3Endpoint}, Lambda endpoint at ${kept.lambdaEndpoint} (region ${kept.region}); Ctrl-C stops them.\n` +
        `The job's execution, as the console lists its operations:\n${execution.operations.map((o) => `  ${o}`).join('\n')}\n` +
        `From another terminal (in this folder):\n` +
        `  ${env} npx ${PROGRAM} status s3://${kept.bucket}/${kept.key}\n` +
        `  ${lambdaEnv} JOB_FUNCTION_NAME=job:live npx ${PROGRAM} redrive s3://${kept.bucket}/${kept.key}\n` +
        `  curl -s -X POST ${kept.lambdaEndpoint}/2015-03-31/functions/query/invocations -d '${query}'\n`,
    );
    await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
    await kept.close();
    info('stopped the local S3 API and Lambda endpoint\n');
    return 0;
  },
};
