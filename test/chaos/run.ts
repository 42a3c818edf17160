/**
 * npm run chaos: the whole crash-point matrix. Starts moto_server, discovers the points (a
 * fault-free run), runs every case, and prints one row per case (fault and scenario, outcome,
 * each job's ending, time) and the totals. Exits 1 if any job did not end exactly one way.
 *   --only TEXT   run the cases whose name contains TEXT
 *   --jobs N      cases at once (default 3; each mostly waits for the engine's retry delays)
 */
import { startMoto } from '../../lib/emulators/moto.ts';
import { prepareInputs } from './inputs.ts';
import { runCase, type CaseResult, type Outcome } from './harness.ts';
import { caseName, DISCOVERY, matrix } from './cases.ts';
import { mapLimit } from '../../lib/io/concurrency.ts';

const arg = (flag: string) => (process.argv.includes(flag) ? process.argv[process.argv.indexOf(flag) + 1] : undefined);
const only = arg('--only');
const jobs = Number(arg('--jobs') ?? 3);

const t0 = performance.now();
const inputs = await prepareInputs();
const moto = await startMoto();
let exitCode: number;
try {
  const discovery = await runCase(moto.endpoint, inputs, DISCOVERY);
  if (discovery.outcome !== 'published') throw new Error(`the fault-free run ended ${discovery.outcome}: ${discovery.problem}`);
  const points = discovery.seen;
  const cases = matrix(points).filter((c) => !only || caseName(c).includes(only));
  process.stdout.write(`${cases.length} cases over ${points.length} points (fault-free run: ${(discovery.ms / 1000).toFixed(1)} s)\n\n`);
  const width = Math.min(110, Math.max(...cases.map((c) => caseName(c).length)));
  const rows = await mapLimit(cases, jobs, async (spec) => {
    const r = await runCase(moto.endpoint, inputs, spec);
    process.stdout.write(row(r, width));
    return r;
  });
  process.stdout.write(totals(rows, points.length, performance.now() - t0));
  exitCode = rows.some((r) => r.outcome === 'broken' || r.outcome === 'running') ? 1 : 0;
} catch (e: unknown) {
  process.stderr.write(`npm run chaos: ${e instanceof Error ? e.message : String(e)}\n`);
  exitCode = 2;
} finally {
  await moto.stop();
}
// A case abandoned past its deadline leaves its stack running: end here, not when it does.
process.exit(exitCode);

function row(r: CaseResult, width: number): string {
  const ok = r.outcome !== 'broken' && r.outcome !== 'running';
  const jobs = r.jobs.map((j) => `${j.version}${j.generation ? `/g${j.generation}` : ''} ${j.ending}`).join(', ');
  const notes = [
    ok && r.outcome !== r.expected ? `(expected ${r.expected})` : '',
    r.fired === false ? '(point not reached)' : '',
    r.problem ?? '',
    r.outcome === 'failed' ? `error.json: ${shorten(r.error ?? '')}` : '',
  ].filter(Boolean);
  const name = r.name.length > width ? `${r.name.slice(0, width - 1)}…` : r.name.padEnd(width);
  return `${ok ? 'ok ' : 'BAD'} ${name} ${r.outcome.padEnd(10)} ${jobs.padEnd(30)} ${(r.ms / 1000).toFixed(1).padStart(5)} s  ${notes.join('  ')}\n`;
}

/** The message without the input's URL and job id every one starts with. */
function shorten(message: string): string {
  const m = message.replace(/^s3:\/\/\S+: job \w+: /, '');
  return m.length > 160 ? `${m.slice(0, 159)}…` : m;
}

function totals(rows: CaseResult[], points: number, ms: number): string {
  const count = (o: Outcome) => rows.filter((r) => r.outcome === o).length;
  const endings = rows.flatMap((r) => r.jobs.map((j) => j.ending));
  const jobsBy = (e: string) => endings.filter((x) => x === e).length;
  const unexpected = rows.filter((r) => (r.outcome === 'published' || r.outcome === 'failed') && r.outcome !== r.expected);
  const unreached = rows.filter((r) => r.fired === false);
  return (
    `\n${rows.length} cases over ${points} points: ${count('published')} published, ${count('failed')} failed with error.json, ` +
    `${count('superseded')} superseded, ${count('broken')} broken, ${count('running')} still running\n` +
    `${endings.length} jobs: ${jobsBy('published')} published, ${jobsBy('superseded')} superseded, ${jobsBy('failed')} failed\n` +
    (unexpected.length ? `${unexpected.length} ended properly but not as expected: ${unexpected.map((r) => r.name).join('; ')}\n` : '') +
    (unreached.length ? `${unreached.length} never reached their point: ${unreached.map((r) => r.name).join('; ')}\n` : '') +
    `total ${(ms / 1000).toFixed(0)} s\n`
  );
}
