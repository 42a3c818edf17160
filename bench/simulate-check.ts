/**
 * npm run simulate:check -- [--rows 2000000,10000000] [--runs 3] [--dir /tmp/simulate-check]
 * Checks the simulator against reality: generates each size, runs `pipeline-local` on it `runs`
 * times (the median of the times it reports), simulates the same job with the local figures
 * (moto, one Node process) and fails when the prediction is off by more than ±25 %.
 * The machine's other load moves the measurement: run it on a quiet machine.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { simulate } from '../lib/simulate/run.ts';
import { LOCAL } from '../lib/simulate/figures.ts';
import { median } from './measure.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '2000000,10000000' },
    runs: { type: 'string', default: '3' },
    dir: { type: 'string', default: '/tmp/simulate-check' },
  },
});
const cli = (args: string[]) =>
  execFileSync(process.execPath, ['dist/track-embeddings.js', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
mkdirSync(values.dir, { recursive: true });
let bad = 0;
for (const rows of values.rows.split(',').map(Number)) {
  const file = join(values.dir, `tracks-${rows}.parquet`);
  if (!existsSync(file)) cli(['generate', file, '--rows', String(rows)]);
  const times: number[] = [];
  for (let i = 0; i < Number(values.runs); i++) {
    const out = execFileSync(
      'sh',
      ['-c', 'node dist/track-embeddings.js pipeline-local "$0" -o "$1" 2>&1 >/dev/null', file, join(values.dir, `out-${rows}`)],
      {
        encoding: 'utf8',
      },
    );
    const m = / ([\d.]+) s → /.exec(out);
    if (!m) throw new Error(`no time in pipeline-local's output: ${out}`);
    times.push(Number(m[1]));
  }
  const measured = median(times);
  const predicted = (await simulate({ rows, platform: LOCAL })).wallMs / 1000;
  const off = predicted / measured - 1;
  const ok = Math.abs(off) <= 0.25;
  if (!ok) bad++;
  process.stdout.write(
    `${rows.toLocaleString('en-US')} rows: pipeline-local ${times.map((t) => t.toFixed(2)).join(', ')} s (median ${measured.toFixed(2)} s); simulated ${predicted.toFixed(2)} s: ${off >= 0 ? '+' : ''}${(off * 100).toFixed(0)} % ${ok ? 'within' : 'OUTSIDE'} ±25 %\n`,
  );
}
process.exitCode = bad > 0 ? 1 : 0;
