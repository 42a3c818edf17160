/**
 * npm run chaos: the whole crash-point matrix. Starts moto_server, discovers the points (a
 * fault-free run, plus runs that reach the reconciler and the failure function), runs every
 * case, and prints one row per case (point, fault, outcome, reconciler rounds, time) and the
 * totals. Exits 1 if any job did not end exactly one way.
 *   --only TEXT   run the cases whose name contains TEXT
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMoto } from '../../lib/emulators/moto.ts';
import { runLocal } from '../../lib/local/runner.ts';
import { caseName, matrix, RECOVERY_DISCOVERY, runCase, type CaseResult, type Reference } from './harness.ts';
import type { Point } from './faults.ts';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'tracks-5k.parquet');
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;

const out = mkdtempSync(join(tmpdir(), 'chaos-cli-'));
const cli = await runLocal({ input: FIXTURE, outDir: out, workers: 2 });
const ref: Reference = { input: readFileSync(FIXTURE), vectors: readFileSync(cli.vectorsPath), mapping: readFileSync(cli.mappingPath) };
rmSync(out, { recursive: true, force: true });
const moto = await startMoto();
try {
  const seen = new Map<string, Point>();
  for (const spec of [{ kind: 'clean' as const }, ...RECOVERY_DISCOVERY]) {
    const r = await runCase(moto.endpoint, ref, spec);
    if (r.outcome !== 'published' && r.outcome !== 'failed') throw new Error(`discovery run "${r.name}" did not end: ${r.problem}`);
    for (const p of r.seen ?? []) seen.set(`${p.fn} ${p.op}`, p);
  }
  const cases = matrix([...seen.values()]).filter((c) => !only || caseName(c).includes(only));
  process.stdout.write(`${cases.length} cases over ${seen.size} points\n\n`);
  const rows: CaseResult[] = [];
  for (const spec of cases) {
    const r = await runCase(moto.endpoint, ref, spec);
    rows.push(r);
    const mark = r.outcome === 'published' || r.outcome === 'failed' ? 'ok ' : 'BAD';
    process.stdout.write(
      `${mark} ${r.name.padEnd(72)} ${r.outcome.padEnd(9)} rounds ${String(r.rounds).padStart(2)}  ${(r.ms / 1000).toFixed(1).padStart(5)} s` +
        `${r.fired === false && spec.kind === 'point' ? '  (point not reached)' : ''}${r.problem ? `  ${r.problem}` : ''}\n`,
    );
  }
  const count = (o: CaseResult['outcome']) => rows.filter((r) => r.outcome === o).length;
  const slowest = rows.reduce((a, b) => (b.rounds > a.rounds ? b : a), rows[0]!);
  process.stdout.write(
    `\n${rows.length} cases: ${count('published')} published, ${count('failed')} failed with error.json, ` +
      `${count('running')} still running, ${count('broken')} broken; slowest recovery ${slowest.rounds} reconciler round(s) (${slowest.name})\n`,
  );
  process.exitCode = count('running') + count('broken') > 0 ? 1 : 0;
} finally {
  await moto.stop();
}
