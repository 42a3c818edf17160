/**
 * npm run simulate -- --rows 1e8,1e9 [--repeats 0.1] [--concurrency N] [--platform aws|local]
 *                     [--memory MB] [--shard-rows N] [--stats-part-rows N] [--id-partition-rows N]
 *                     [--svg-dir DIR]
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

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1e8,1e9' },
    repeats: { type: 'string', default: '0' },
    concurrency: { type: 'string' },
    platform: { type: 'string', default: 'aws' },
    memory: { type: 'string' },
    'shard-rows': { type: 'string' },
    'stats-part-rows': { type: 'string' },
    'id-partition-rows': { type: 'string' },
    'svg-dir': { type: 'string', default: 'simulate-out' },
  },
});
const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
if (values.platform !== 'aws' && values.platform !== 'local') throw new Error(`--platform is aws or local, got ${values.platform}`);
const platform = values.platform === 'aws' ? AWS : LOCAL;
await mkdir(values['svg-dir'], { recursive: true });
for (const rows of values.rows.split(',').map(Number)) {
  if (!Number.isSafeInteger(rows) || rows <= 0) throw new Error(`--rows: ${rows} is not a positive whole number`);
  const t0 = performance.now();
  const r = await simulate({
    rows,
    repeats: Number(values.repeats),
    concurrency: num(values.concurrency),
    platform,
    memoryMb: num(values.memory),
    shardRows: num(values['shard-rows']),
    statsPartRows: num(values['stats-part-rows']),
    idPartitionRows: num(values['id-partition-rows']),
  });
  const svg = join(values['svg-dir'], `concurrency-${rows}.svg`);
  await writeFile(svg, concurrencySvg(r));
  process.stdout.write(formatReport(r, platform) + `concurrency picture: ${svg}\n\n`);
  process.stderr.write(`simulated ${rows} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s of real time\n`);
}
