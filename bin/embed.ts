#!/usr/bin/env node
/**
 * embed IN.parquet --out DIR [--spec spec.json] [--shard-rows N] [--workers N]
 * The whole job on one machine; see README.md.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { relative } from 'node:path';
import { runLocal } from '../lib/local/runner.ts';
import { parseSpec, DEFAULT_SPEC, type FeatureSpec } from '../lib/embedding/spec.ts';
import { SpecError, UsageError, messageOf } from '../lib/errors.ts';
import { checkOutDir, positiveIntOption, runCli } from '../lib/cli/options.ts';
import { Progress } from '../lib/cli/progress.ts';

const USAGE = 'usage: npm start -- IN.parquet --out DIR [--spec spec.json] [--shard-rows N] [--workers N]';

async function loadSpec(path: string | undefined): Promise<FeatureSpec> {
  if (path === undefined) return DEFAULT_SPEC;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e: unknown) {
    throw new SpecError(`${path}: cannot read spec: ${messageOf(e)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e: unknown) {
    throw new SpecError(`${path}: not valid JSON: ${messageOf(e)}`);
  }
  return parseSpec(json, path);
}

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: 'string', short: 'o' },
        spec: { type: 'string' },
        'shard-rows': { type: 'string' },
        workers: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e: unknown) {
    throw new UsageError(messageOf(e));
  }
  if (args.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [input, ...extra] = args.positionals;
  if (!input) throw new UsageError('missing the input Parquet file');
  if (extra.length > 0) throw new UsageError(`unexpected argument(s): ${extra.join(' ')}`);
  if (!args.values.out) throw new UsageError('missing --out DIR');
  checkOutDir(args.values.out);
  const shardRows = positiveIntOption('shard-rows', args.values['shard-rows']);
  const cores = availableParallelism();
  const asked = positiveIntOption('workers', args.values.workers);
  // More workers than cores only compete for them (64 on 2 cores took 64 s instead of 3 s).
  if (asked !== undefined && asked > cores)
    process.stderr.write(`note: --workers ${asked} is more than the ${cores} cores here; using ${cores}\n`);
  const workers = Math.min(asked ?? cores, cores);
  const spec = await loadSpec(args.values.spec);

  const bars = new Map<string, Progress>();
  const t0 = performance.now();
  const result = await runLocal({
    input,
    outDir: args.values.out,
    spec,
    shardRows,
    workers,
    onProgress: (phase, done, total) => {
      let bar = bars.get(phase);
      if (!bar) {
        for (const b of bars.values()) b.finish();
        bars.set(phase, (bar = new Progress(process.stderr, phase, total)));
      }
      bar.update(done);
    },
  });
  for (const b of bars.values()) b.finish();
  const secs = (performance.now() - t0) / 1000;
  const m = result.manifest;
  const rows = m.input.rows;
  const where = relative(process.cwd(), args.values.out) || '.';
  process.stderr.write(
    `embedded ${rows.toLocaleString('en-US')} rows × ${m.dims} dims in ${secs.toFixed(2)} s ` +
      `(${Math.round(rows / secs).toLocaleString('en-US')} rows/s, ${m.shards.count} shard(s), ${workers} worker(s))` +
      `${m.outputs.repeatedIds ? ', some ids repeat: the mapping keeps the last index of each' : ''} → ${where}/{${m.outputs.vectors}, ${m.outputs.mapping}, manifest.json}\n`,
  );
  return 0;
}

runCli(main, USAGE);
