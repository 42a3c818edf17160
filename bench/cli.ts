/**
 * npm run bench:cli -- [--rows 169776,2000000,10000000] [--tiny-groups 10000] [--runs R] [--workers W] [--node PATH,…]
 * The command vs the reference notebook, Polars and DuckDB on the same generated files, runs
 * interleaved, whole processes: median wall time, rows/s, peak RSS, each program's time and
 * memory as a fraction of Polars', and the parity of our outputs with the notebook's.
 * `--tiny-groups N` adds a file of N one-row row groups. `--node` runs the command on each of
 * these Node binaries (default: the one running this; `bash scripts/node24.sh` prints Node 24's).
 * The peers run on REFERENCE_PYTHON, or on bench/.venv (made from bench/requirements.txt on first use).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measure, median, type Measurement } from './measure.ts';
import { ROOT, benchFile, fmt } from './data.ts';
import { benchPython } from './python.ts';
import { compare, loadNpy } from '../test/helpers/npy-compare.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '169776,2000000,10000000' },
    'tiny-groups': { type: 'string', default: '10000' },
    runs: { type: 'string', default: '3' },
    workers: { type: 'string' },
    node: { type: 'string' },
  },
});
const cases = [
  ...values.rows
    .split(',')
    .filter(Boolean)
    .map((r) => ({ rows: Number(r), groupRows: undefined as number | undefined })),
  ...values['tiny-groups']
    .split(',')
    .filter((r) => r && r !== '0')
    .map((r) => ({ rows: Number(r), groupRows: 1 })),
];
const runs = Number(values.runs);
const workerArgs = values.workers ? ['--workers', values.workers] : [];

const py = benchPython();
const work = mkdtempSync(join(tmpdir(), 'track-embeddings-bench-'));

interface Contender {
  name: string;
  command: (input: string, out: string) => string[];
}
const nodes = values.node ? values.node.split(',').filter(Boolean) : [process.execPath];
const contenders: Contender[] = nodes.map((node) => ({
  name:
    nodes.length > 1
      ? `track-embeddings (Node ${execFileSync(node, ['--version'], { encoding: 'utf8' }).trim().slice(1)})`
      : 'track-embeddings',
  // As the installed command runs it (its shebang passes the same V8 flag).
  command: (i, o) => [node, '--single-threaded-gc', join(ROOT, 'dist', 'track-embeddings.js'), i, '-o', o, ...workerArgs],
}));
const ours = contenders.length;
// The peer the goals are set against (issue 24); without the Python peers, the first command.
const BASE = 'python' in py ? 'Polars' : contenders[0]!.name;
if ('python' in py) {
  const script = (name: string) => join(ROOT, 'bench', name);
  contenders.push({ name: 'notebook (pandas+sklearn)', command: (i, o) => [py.python, script('notebook_reference.py'), i, o] });
  contenders.push({ name: 'Polars', command: (i, o) => [py.python, script('polars_equivalent.py'), i, o] });
  contenders.push({ name: 'DuckDB + numpy/json', command: (i, o) => [py.python, script('duckdb_equivalent.py'), i, o] });
}

const base = Math.max(
  0,
  contenders.findIndex((c) => c.name === BASE),
);

const lines = [
  `Machine: ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${fmt(totalmem() / 2 ** 30, 0)} GiB; ` +
    `${nodes.length > 1 ? '' : `Node ${process.version}; `}workers: ${values.workers ?? 'the command’s default'}; ${runs} run(s) each, interleaved; medians.`,
  '',
  `| rows | row groups | program | wall (s) | rows/s | peak RSS (MiB) | wall ÷ ${BASE} | RSS ÷ ${BASE} |`,
  '|---:|---:|---|---:|---:|---:|---:|---:|',
];
const notes: string[] = [];
try {
  for (const { rows, groupRows } of cases) {
    const input = benchFile(rows, groupRows);
    const groups = groupRows ? Math.ceil(rows / groupRows) : Math.ceil(rows / 1_048_576);
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
    const rsss = results.map((ms) => (ms.every((m) => m.peakRssMiB !== null) ? median(ms.map((m) => m.peakRssMiB!)) : NaN));
    contenders.forEach((c, k) => {
      lines.push(
        `| ${rows.toLocaleString('en-US')} | ${groups.toLocaleString('en-US')} | ${c.name} | ${fmt(walls[k]!)} | ${fmt(rows / walls[k]!, 0)} | ${fmt(rsss[k]!, 0)} | ` +
          `${fmt(walls[k]! / walls[base]!)} | ${fmt(rsss[k]! / rsss[base]!)} |`,
      );
    });
    // Each Node's outputs against the notebook's (contender `ours`, the first peer).
    for (let k = 0; 'python' in py && k < ours; k++) {
      const p = compare(loadNpy(join(work, `${k}`, 'spotify_vectors_14d.npy')), loadNpy(join(work, `${ours}`, 'spotify_vectors_14d.npy')));
      const sameMap = readFileSync(join(work, `${k}`, 'id_to_index.json')).equals(readFileSync(join(work, `${ours}`, 'id_to_index.json')));
      notes.push(
        `${rows.toLocaleString('en-US')} rows in ${groups.toLocaleString('en-US')} row group(s)${ours > 1 ? `, ${contenders[k]!.name}` : ''}: ${fmt((100 * p.identical) / p.elements, 4)} % of elements bit-identical to the notebook's, max ${p.maxUlp} ulp; mapping ${sameMap ? 'byte-identical' : 'DIFFERENT'}.`,
      );
    }
  }
  lines.push('', `"÷ ${BASE}" is the program's median divided by the median of ${BASE}: below 1, faster or smaller.`);
  if ('error' in py) lines.push(`Python peers skipped: ${py.error}.`);
  process.stdout.write(`${[...lines, '', ...notes].join('\n')}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
