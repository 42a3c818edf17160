#!/usr/bin/env node
/**
 * pipeline-local IN.parquet --out DIR [--shard-rows N] [--stats-part-rows N]
 * The serverless flow without AWS or Docker: a local S3 API (moto_server) and a local Lambda
 * Invoke endpoint serving the real handlers. Outputs are those `npm start` writes.
 */
import { parseArgs } from 'node:util';
import { runPipelineLocal } from '../lib/emulators/serverless-pipeline.ts';
import { UsageError, messageOf } from '../lib/errors.ts';
import { checkInputFile, checkOutDir, positiveIntOption, runCli } from '../lib/cli/options.ts';

const USAGE = 'usage: npm run pipeline:local -- IN.parquet --out DIR [--shard-rows N] [--stats-part-rows N]';

async function main(argv: string[]): Promise<number> {
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { out: { type: 'string' }, 'shard-rows': { type: 'string' }, 'stats-part-rows': { type: 'string' } },
    }));
  } catch (e: unknown) {
    throw new UsageError(messageOf(e));
  }
  const [input, ...extra] = positionals;
  if (!input || extra.length > 0 || !values.out) throw new UsageError('expected one input file and --out DIR');
  // Checked before moto_server starts: a run that is refused does no work and creates nothing.
  checkInputFile(input);
  checkOutDir(values.out);
  const shardRows = positiveIntOption('shard-rows', values['shard-rows']);
  const statsPartRows = positiveIntOption('stats-part-rows', values['stats-part-rows']);
  const t0 = performance.now();
  const tty = process.stderr.isTTY;
  const { manifest, invocations } = await runPipelineLocal({
    input,
    outDir: values.out,
    shardRows,
    statsPartRows,
    onProgress: (done) => tty && process.stderr.write(`\rshards done: ${done}\x1b[K`),
  });
  if (tty) process.stderr.write('\r\x1b[K');
  const secs = (performance.now() - t0) / 1000;
  process.stderr.write(
    `pipeline: ${manifest.input.rows.toLocaleString('en-US')} rows × ${manifest.dims} dims in ${manifest.shards.count} shard(s), ` +
      `${invocations} Lambda invocations, ${secs.toFixed(2)} s → ${values.out}/{${manifest.outputs.vectors}, ${manifest.outputs.mapping}, manifest.json}\n`,
  );
  return 0;
}

runCli(main, USAGE);
