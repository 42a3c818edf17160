/**
 * npm run bench:big-ids -- [--runs 1]
 * Very large ids: 2,600 dictionary-encoded ids of 1 MiB (16 distinct: 2.6 GB written out row by
 * row, a 1 MB file), and 2,600 distinct plain ids of 64 KiB. Builds the files (once, in the temp
 * folder), runs the built command on each and, when REFERENCE_PYTHON names a Python with pandas
 * and scikit-learn (/work/shared/reference/setup_venv.sh makes one), the notebook; prints wall
 * time and peak RSS, and whether the mappings are byte-identical.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, fmt } from './data.ts';
import { measure, median, type Measurement } from './measure.ts';
import { writeBigIds, type BigIdsOptions } from '../test/helpers/big-ids.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '1' } } });
const runs = Number(values.runs);

const cases: { name: string; o: BigIdsOptions }[] = [
  { name: '2,600 dictionary ids of 1 MiB (16 distinct)', o: { rows: 2600, distinct: 16, idBytes: 1 << 20, dictionary: true } },
  { name: '2,600 plain ids of 64 KiB (all distinct)', o: { rows: 2600, distinct: 2600, idBytes: 1 << 16, dictionary: false } },
];

const dataDir = join(tmpdir(), 'track-embeddings-bench');
const work = mkdtempSync(join(tmpdir(), 'track-embeddings-bench-'));
const python = process.env.REFERENCE_PYTHON;
const contenders = [
  {
    name: 'track-embeddings',
    command: (i: string, o: string) => [process.execPath, '--single-threaded-gc', join(ROOT, 'dist', 'track-embeddings.js'), i, '-o', o],
  },
  ...(python
    ? [
        {
          name: 'notebook (pandas+sklearn)',
          command: (i: string, o: string) => [python, join(ROOT, 'bench', 'notebook_reference.py'), i, o],
        },
      ]
    : []),
];

const lines = [
  `${runs} run(s) each; medians. Node ${process.version}.`,
  '',
  '| input | file (MB) | program | wall (s) | peak RSS (MiB) | ours ÷ notebook, wall |',
  '|---|---:|---|---:|---:|---:|',
];
const notes: string[] = [];
try {
  mkdirSync(dataDir, { recursive: true });
  for (const { name, o } of cases) {
    const input = join(dataDir, `big-ids-${o.rows}-${o.distinct}-${o.idBytes}-${o.dictionary ? 'dict' : 'plain'}.parquet`);
    if (!existsSync(input)) {
      process.stderr.write(`building ${name} → ${input}\n`);
      writeBigIds(input, o);
    }
    const results = contenders.map(() => [] as Measurement[]);
    for (let r = 0; r < runs; r++) {
      contenders.forEach((c, k) => {
        const m = measure(c.command(input, join(work, `${k}`)), ROOT);
        if (!m.ok) throw new Error(`${c.name} failed on ${input}:\n${m.stderr}`);
        results[k]!.push(m);
      });
    }
    const walls = results.map((ms) => median(ms.map((m) => m.seconds)));
    const rss = results.map((ms) => (ms.every((m) => m.peakRssMiB !== null) ? median(ms.map((m) => m.peakRssMiB!)) : NaN));
    const size = readFileSync(input).length / 1e6;
    contenders.forEach((c, k) => {
      const ratio = contenders.length > 1 ? fmt(walls[0]! / walls[1]!) : 'n/a';
      lines.push(`| ${name} | ${fmt(size, 1)} | ${c.name} | ${fmt(walls[k]!)} | ${fmt(rss[k]!, 0)} | ${k === 0 ? ratio : '1.00'} |`);
    });
    if (python) {
      const same = readFileSync(join(work, '0', 'id_to_index.json')).equals(readFileSync(join(work, '1', 'id_to_index.json')));
      notes.push(`${name}: mapping ${same ? 'byte-identical to the notebook’s' : 'DIFFERENT from the notebook’s'}.`);
    }
  }
  if (!python) lines.push('', 'Notebook skipped: set REFERENCE_PYTHON to a Python with pandas, scikit-learn and pyarrow.');
  process.stdout.write(`${[...lines, '', ...notes].join('\n')}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
