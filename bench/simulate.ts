/**
 * npm run simulate -- --rows 1e8,1e9 [--repeats 0.1] [--concurrency N] [--platform aws|local]
 *                     [--memory MB] [--shard-rows N] [--stats-part-rows N] [--id-partition-rows N]
 *                     [--svg-dir DIR] [--help]
 * The real job handler against a simulated S3, Lambda and durable engine in virtual time
 * (lib/simulate/; every figure and its source in lib/simulate/figures.ts). Prints the report of
 * each size on stdout and writes DIR/concurrency-<rows>.svg.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { simulate } from '../lib/simulate/run.ts';
import { AWS, LOCAL } from '../lib/simulate/figures.ts';
import { formatReport } from '../lib/simulate/report.ts';
import { concurrencySvg } from '../lib/simulate/svg.ts';

const USAGE = `usage: npm run simulate -- --rows 1e8,1e9 [--repeats 0.1] [--concurrency N] [--platform aws|local]
                    [--memory MB] [--shard-rows N] [--stats-part-rows N] [--id-partition-rows N] [--svg-dir DIR]`;
/** A bad option: one line on stderr and the usage, exit 2 (no stack trace). */
function refuse(message: string): never {
  process.stderr.write(`simulate: ${message}\n${USAGE}\n`);
  process.exit(2);
}

const options = {
  rows: { type: 'string', default: '1e8,1e9' },
  repeats: { type: 'string', default: '0' },
  concurrency: { type: 'string' },
  platform: { type: 'string', default: 'aws' },
  memory: { type: 'string' },
  'shard-rows': { type: 'string' },
  'stats-part-rows': { type: 'string' },
  'id-partition-rows': { type: 'string' },
  'svg-dir': { type: 'string', default: 'simulate-out' },
  help: { type: 'boolean', short: 'h' },
} as const;
let parsed: ReturnType<typeof parseArgs<{ options: typeof options }>>;
try {
  parsed = parseArgs({ options });
} catch (e: unknown) {
  refuse((e as Error).message);
}
const { values } = parsed;
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
/** A positive whole number (1e8 is one), or absent. */
const whole = (name: string, v: string | undefined) => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) refuse(`--${name} must be a positive whole number, got '${v}'`);
  return n;
};
const repeats = Number(values.repeats);
if (!(repeats >= 0 && repeats < 1))
  refuse(`--repeats is the share of repeated ids, from 0 up to (not including) 1, got '${values.repeats}'`);
if (values.platform !== 'aws' && values.platform !== 'local') refuse(`--platform is aws or local, got '${values.platform}'`);
const platform = values.platform === 'aws' ? AWS : LOCAL;
const sizes = values.rows.split(',').map((r) => whole('rows', r)!);
const settings = {
  concurrency: whole('concurrency', values.concurrency),
  memoryMb: whole('memory', values.memory),
  shardRows: whole('shard-rows', values['shard-rows']),
  statsPartRows: whole('stats-part-rows', values['stats-part-rows']),
  idPartitionRows: whole('id-partition-rows', values['id-partition-rows']),
};
await mkdir(values['svg-dir'], { recursive: true });
for (const rows of sizes) {
  const t0 = performance.now();
  const r = await simulate({
    rows,
    repeats,
    platform,
    ...settings,
  });
  const svg = join(values['svg-dir'], `concurrency-${rows}.svg`);
  await writeFile(svg, concurrencySvg(r));
  process.stdout.write(formatReport(r, platform) + `concurrency picture: ${svg}\n\n`);
  process.stderr.write(`simulated ${rows} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s of real time\n`);
}
