/**
 * npm run bench:similar -- [--rows 169776,10000000] [--queries 20] [--batch 1000] [--batch-max-rows 2000000] [--k 10]
 * Exact k-NN speed: `track-embeddings similar`'s search (lib/search/nearest.ts) against numpy
 * brute force on the same 14-d float32 matrices, of two kinds per size: seeded normal values (the
 * scan's hard case: every row about as far as every other) and the embeddings of the generated
 * tracks (what the command searches; made once with the built command). Load time, and the
 * median time per query after load (after three untimed queries: the scan compiled); then `--batch` queries at once (what --ids-file does) on 1 and
 * 2 threads, as queries per second over the whole batch, threads' start-up included, for sizes up
 * to --batch-max-rows. The numpy column runs on REFERENCE_PYTHON or bench/.venv (see bench/python.ts).
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseNpy } from '../lib/search/embeddings.ts';
import { nearest } from '../lib/search/nearest.ts';
import { searchMany } from '../lib/search/search-pool.ts';
import { ROOT, fmt, normalVectors, trackVectors } from './data.ts';
import { median } from './measure.ts';
import { benchPython } from './python.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '169776,10000000' },
    queries: { type: 'string', default: '20' },
    batch: { type: 'string', default: '1000' },
    'batch-max-rows': { type: 'string', default: '2000000' },
    k: { type: 'string', default: '10' },
  },
});
const sizes = values.rows.split(',').map(Number);
const queries = Number(values.queries);
const k = Number(values.k);
const batch = Number(values.batch);
const batchMaxRows = Number(values['batch-max-rows']);
const DIMS = 14;

const py = benchPython();
const lines = [
  `Exact ${k}-NN, euclidean, ${queries} queries each (rows spread over the matrix, each excluding itself); medians per query after load. normal: seeded normal values; tracks: the generated tracks' embeddings.`,
  '',
  '| rows, matrix | program | load (s) | per query (ms) | queries/s |',
  '|---:|---|---:|---:|---:|',
];
for (const rows of sizes) {
  for (const [kind, path] of [
    ['normal', normalVectors(rows)],
    ['tracks', trackVectors(rows)],
  ] as const) {
    const label = `${rows.toLocaleString('en-US')} ${kind}`;
    let t = performance.now();
    const { data } = parseNpy(readFileSync(path), path);
    const load = (performance.now() - t) / 1000;
    const step = Math.max(1, Math.floor(rows / queries));
    const times: number[] = [];
    // Three queries first, untimed: the scan is then compiled, as in a warm query function or a batch.
    for (let q = -3; q < queries; q++) {
      const r = Math.abs(q) * step + (q < 0 ? 1 : 0);
      const query = Float64Array.from(data.subarray(r * DIMS, (r + 1) * DIMS));
      t = performance.now();
      nearest(data, DIMS, query, k, 'euclidean', new Set([r]));
      if (q >= 0) times.push(performance.now() - t);
    }
    const ms = median(times);
    lines.push(`| ${label} | track-embeddings similar | ${fmt(load)} | ${fmt(ms, 1)} | ${fmt(1000 / ms, 0)} |`);
    if (rows <= batchMaxRows) {
      const many = Array.from({ length: batch }, (_, q) => {
        const r = Math.floor((q * rows) / batch);
        return { vector: Float64Array.from(data.subarray(r * DIMS, (r + 1) * DIMS)), exclude: [r] };
      });
      for (const threads of [1, 2]) {
        t = performance.now();
        await searchMany(data, DIMS, many, k, 'euclidean', threads, () => {}, 0);
        const secs = (performance.now() - t) / 1000;
        lines.push(
          `| ${label} | similar, ${batch} queries on ${threads} thread(s) | – | ${fmt((secs * 1000) / batch, 1)} | ${fmt(batch / secs, 0)} |`,
        );
      }
    }
    if ('python' in py) {
      const r = JSON.parse(
        execFileSync(py.python, [join(ROOT, 'bench', 'similar_numpy.py'), path, String(queries), String(k)], { encoding: 'utf8' }),
      ) as { loadSeconds: number; queryMs: number[] };
      const nms = median(r.queryMs);
      lines.push(`| ${label} | numpy brute force | ${fmt(r.loadSeconds)} | ${fmt(nms, 1)} | ${fmt(1000 / nms, 0)} |`);
    }
  }
}
if ('error' in py) lines.push('', `numpy skipped: ${py.error}.`);
process.stdout.write(`${lines.join('\n')}\n`);
