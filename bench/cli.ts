/**
 * npm run bench -- [--rows 169776,2000000,10000000] [--runs R] [--workers W]
 * The command line vs the reference notebook vs a DuckDB equivalent, on the same generated files,
 * runs interleaved: median wall time, rows/s and peak RSS, the ratios, and a parity check of our
 * outputs against the notebook's. The Python columns need the reference venv
 * (REFERENCE_PYTHON, default /tmp/reference-venv/bin/python) and the reference script
 * (REFERENCE_SCRIPT, default ../shared/reference/notebook_reference.py).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { measure, median, type Measurement } from './measure.ts';
import { ROOT, benchFile, fmt } from './data.ts';
import { compare, loadNpy } from '../test/helpers/npy-compare.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '169776,2000000,10000000' },
    runs: { type: 'string', default: '3' },
    workers: { type: 'string' },
  },
});
const sizes = values.rows.split(',').map(Number);
const runs = Number(values.runs);
const workers = Number(values.workers ?? availableParallelism());

const refPython = process.env.REFERENCE_PYTHON ?? '/tmp/reference-venv/bin/python';
const refScript = process.env.REFERENCE_SCRIPT ?? resolve(ROOT, '..', 'shared', 'reference', 'notebook_reference.py');
const havePython = existsSync(refPython) && existsSync(refScript);

const work = mkdtempSync(join(tmpdir(), 'track-embeddings-bench-'));

interface Contender {
  name: string;
  command: (input: string, out: string) => string[];
}
const contenders: Contender[] = [
  // As `npm start` runs it, V8 flag included.
  {
    name: 'track-embeddings',
    command: (i, o) => [
      process.execPath,
      '--single-threaded-gc',
      join(ROOT, 'dist', 'embed.js'),
      i,
      '--out',
      o,
      '--workers',
      String(workers),
    ],
  },
];
if (havePython) {
  contenders.push({ name: 'notebook (pandas+sklearn)', command: (i, o) => [refPython, refScript, i, o] });
  contenders.push({ name: 'DuckDB + numpy/json', command: (i, o) => [refPython, join(ROOT, 'bench', 'duckdb_equivalent.py'), i, o] });
}

const lines = [
  `Machine: ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${fmt(totalmem() / 2 ** 30, 0)} GiB, Node ${process.version}; ${workers} worker(s); ${runs} run(s) each, interleaved; medians.`,
  '',
  '| rows | command | wall (s) | rows/s | peak RSS (MiB) | wall vs ours |',
  '|---:|---|---:|---:|---:|---:|',
];
const notes: string[] = [];
try {
  for (const rows of sizes) {
    const input = benchFile(rows);
    const results = contenders.map(() => [] as Measurement[]);
    for (let r = 0; r < runs; r++) {
      contenders.forEach((c, k) => {
        if (process.stderr.isTTY) process.stderr.write(`\r${rows.toLocaleString('en-US')} rows: run ${r + 1}/${runs}, ${c.name}\x1b[K`);
        const m = measure(c.command(input, join(work, `${k}`)), ROOT);
        if (!m.ok) throw new Error(`${c.name} failed on ${input}:\n${m.stderr}`);
        results[k]!.push(m);
      });
    }
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    const walls = results.map((ms) => median(ms.map((m) => m.seconds)));
    contenders.forEach((c, k) => {
      const ms = results[k]!;
      const rss = ms.every((m) => m.peakRssMiB !== null) ? median(ms.map((m) => m.peakRssMiB!)) : NaN;
      lines.push(
        `| ${rows.toLocaleString('en-US')} | ${c.name} | ${fmt(walls[k]!)} | ${fmt(rows / walls[k]!, 0)} | ${fmt(rss, 0)} | ${k === 0 ? '1.00' : fmt(walls[0]! / walls[k]!)} |`,
      );
    });
    if (havePython) {
      const p = compare(loadNpy(join(work, '0', 'spotify_vectors_14d.npy')), loadNpy(join(work, '1', 'spotify_vectors_14d.npy')));
      const sameMap = readFileSync(join(work, '0', 'id_to_index.json')).equals(readFileSync(join(work, '1', 'id_to_index.json')));
      notes.push(
        `${rows.toLocaleString('en-US')} rows: ${fmt((100 * p.identical) / p.elements, 4)} % of elements bit-identical to the notebook's, max ${p.maxUlp} ulp; mapping ${sameMap ? 'byte-identical' : 'DIFFERENT'}.`,
      );
    }
  }
  lines.push('', '"wall vs ours" is our median wall time divided by theirs (below 1: we are faster).');
  if (!havePython)
    lines.push(
      `Python columns skipped: no reference venv at ${refPython} or script at ${refScript} (see ../shared/reference/setup_venv.sh).`,
    );
  process.stdout.write(`${[...lines, '', ...notes].join('\n')}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
