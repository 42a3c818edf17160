/**
 * npm run bench -- [--rows N] [--runs R] [--workers W]
 * The command line vs the reference notebook on the same generated file, runs interleaved:
 * median wall time, rows/s and peak RSS, with the ratio, and a parity check of the outputs.
 * The reference column needs the reference venv (REFERENCE_PYTHON, default /tmp/reference-venv/bin/python)
 * and script (REFERENCE_SCRIPT, default ../shared/reference/notebook_reference.py).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { measure, median, type Measurement } from './measure.ts';
import { compare, loadNpy } from '../test/helpers/npy-compare.ts';

const ROOT = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: { rows: { type: 'string', default: '2000000' }, runs: { type: 'string', default: '3' }, workers: { type: 'string' } },
});
const rows = Number(values.rows);
const runs = Number(values.runs);
const workers = Number(values.workers ?? availableParallelism());
const node = [process.execPath, '--import', 'tsx'];

const dataDir = join(tmpdir(), 'track-embeddings-bench');
mkdirSync(dataDir, { recursive: true });
const input = join(dataDir, `tracks-${rows}.parquet`);
if (!existsSync(input)) {
  process.stderr.write(`generating ${rows.toLocaleString('en-US')} tracks → ${input}\n`);
  const g = measure([...node, join(ROOT, 'bin', 'generate.ts'), input, '--rows', String(rows)], ROOT);
  if (!g.ok) throw new Error(`generate failed:\n${g.stderr}`);
}

const refPython = process.env.REFERENCE_PYTHON ?? '/tmp/reference-venv/bin/python';
const refScript = process.env.REFERENCE_SCRIPT ?? resolve(ROOT, '..', 'shared', 'reference', 'notebook_reference.py');
const haveReference = existsSync(refPython) && existsSync(refScript);

const work = mkdtempSync(join(tmpdir(), 'track-embeddings-bench-'));
const ours: Measurement[] = [];
const theirs: Measurement[] = [];
try {
  for (let i = 0; i < runs; i++) {
    if (process.stderr.isTTY) process.stderr.write(`\rrun ${i + 1}/${runs}\x1b[K`);
    // The bundle `npm start` runs (built by the prebench script).
    const m = measure([process.execPath, '--enable-source-maps', join(ROOT, 'dist', 'embed.js'), input, '--out', join(work, 'ours'), '--workers', String(workers)], ROOT);
    if (!m.ok) throw new Error(`track-embeddings failed:\n${m.stderr}`);
    ours.push(m);
    if (haveReference) {
      const r = measure([refPython, refScript, input, join(work, 'reference')], ROOT);
      if (!r.ok) throw new Error(`reference failed:\n${r.stderr}`);
      theirs.push(r);
    }
  }

  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  const fmt = (n: number, d = 2) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  const row = (name: string, ms: Measurement[]) => {
    const wall = median(ms.map((m) => m.seconds));
    const rss = ms.every((m) => m.peakRssMiB !== null) ? median(ms.map((m) => m.peakRssMiB!)) : NaN;
    return { name, wall, rss, line: `| ${name.padEnd(22)} | ${fmt(wall).padStart(8)} | ${fmt(rows / wall, 0).padStart(11)} | ${(Number.isNaN(rss) ? 'n/a' : fmt(rss, 0)).padStart(13)} |` };
  };
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const out = [
    `${rows.toLocaleString('en-US')} rows, ${runs} run(s) each, interleaved; medians. Machine: ${availableParallelism()} cores (${cpu}), ${fmt(totalmem() / 2 ** 30, 0)} GiB, Node ${process.version}; ${workers} worker(s).`,
    '',
    '| command                | wall (s) |      rows/s | peak RSS (MiB) |',
    '|------------------------|---------:|------------:|--------------:|',
  ];
  const a = row('track-embeddings (CLI)', ours);
  out.push(a.line);
  if (haveReference) {
    const b = row('reference notebook', theirs);
    out.push(b.line, '', `wall-time ratio (ours / reference): ${fmt(a.wall / b.wall)}; peak RSS ratio: ${fmt(a.rss / b.rss)}`);
    const p = compare(loadNpy(join(work, 'ours', 'spotify_vectors_14d.npy')), loadNpy(join(work, 'reference', 'spotify_vectors_14d.npy')));
    const sameMap = readFileSync(join(work, 'ours', 'id_to_index.json')).equals(readFileSync(join(work, 'reference', 'id_to_index.json')));
    out.push(`parity: ${fmt((100 * p.identical) / p.elements, 4)} % of elements bit-identical, max ${p.maxUlp} ulp; mapping ${sameMap ? 'byte-identical' : 'DIFFERENT'}`);
  } else {
    out.push('', `reference column skipped: no reference venv at ${refPython} or script at ${refScript} (see ../shared/reference/setup_venv.sh)`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
