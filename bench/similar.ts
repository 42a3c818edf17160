/**
 * npm run bench:similar -- [--rows 169776,10000000] [--queries 20] [--batch 1000] [--k 10]
 * Exact k-NN speed: `track-embeddings similar`'s search (lib/search/nearest.ts) against numpy
 * brute force on the same synthetic 14-d float32 matrices (seeded; search time does not depend on
 * the values): load time, and the median time per query after load; then `--batch` queries at
 * once (what --ids-file does) on 1 and 2 threads, as queries per second over the whole batch,
 * threads' start-up included. The numpy column runs on
 * REFERENCE_PYTHON or bench/.venv (see bench/python.ts).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { npyHeader } from '../lib/outputs/npy.ts';
import { parseNpy } from '../lib/search/embeddings.ts';
import { nearest } from '../lib/search/nearest.ts';
import { searchMany } from '../lib/search/search-pool.ts';
import { Rng } from '../lib/generate/random.ts';
import { ROOT, fmt } from './data.ts';
import { median } from './measure.ts';
import { benchPython } from './python.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '169776,10000000' },
    queries: { type: 'string', default: '20' },
    batch: { type: 'string', default: '1000' },
    k: { type: 'string', default: '10' },
  },
});
const sizes = values.rows.split(',').map(Number);
const queries = Number(values.queries);
const k = Number(values.k);
const batch = Number(values.batch);
const DIMS = 14;
const dir = join(tmpdir(), 'track-embeddings-bench');
mkdirSync(dir, { recursive: true });

/** A seeded matrix of `rows` × 14 float32 values, as an .npy, made once. */
function vectorsFile(rows: number): string {
  const path = join(dir, `vectors-${rows}.npy`);
  if (existsSync(path)) return path;
  process.stderr.write(`making ${rows.toLocaleString('en-US')} × ${DIMS} vectors → ${path}\n`);
  const rng = new Rng(rows);
  const data = new Float32Array(rows * DIMS);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal(0, 1);
  writeFileSync(path, Buffer.concat([npyHeader(rows, DIMS), new Uint8Array(data.buffer)]));
  return path;
}

const py = benchPython();
const lines = [
  `Exact ${k}-NN, euclidean, ${queries} queries each (rows spread over the matrix, each excluding itself); medians per query after load.`,
  '',
  '| rows | program | load (s) | per query (ms) | queries/s |',
  '|---:|---|---:|---:|---:|',
];
for (const rows of sizes) {
  const path = vectorsFile(rows);
  let t = performance.now();
  const { data } = parseNpy(readFileSync(path), path);
  const load = (performance.now() - t) / 1000;
  const step = Math.max(1, Math.floor(rows / queries));
  const times: number[] = [];
  for (let q = 0; q < queries; q++) {
    const r = q * step;
    const query = Float64Array.from(data.subarray(r * DIMS, (r + 1) * DIMS));
    t = performance.now();
    nearest(data, DIMS, query, k, 'euclidean', new Set([r]));
    times.push(performance.now() - t);
  }
  const ms = median(times);
  lines.push(`| ${rows.toLocaleString('en-US')} | track-embeddings similar | ${fmt(load)} | ${fmt(ms, 1)} | ${fmt(1000 / ms, 0)} |`);
  const many = Array.from({ length: batch }, (_, q) => {
    const r = Math.floor((q * rows) / batch);
    return { vector: Float64Array.from(data.subarray(r * DIMS, (r + 1) * DIMS)), exclude: [r] };
  });
  for (const threads of [1, 2]) {
    t = performance.now();
    await searchMany(data, DIMS, many, k, 'euclidean', threads, () => {}, 0);
    const secs = (performance.now() - t) / 1000;
    lines.push(
      `| ${rows.toLocaleString('en-US')} | similar, ${batch} queries on ${threads} thread(s) | – | ${fmt((secs * 1000) / batch, 1)} | ${fmt(batch / secs, 0)} |`,
    );
  }
  if ('python' in py) {
    const r = JSON.parse(
      execFileSync(py.python, [join(ROOT, 'bench', 'similar_numpy.py'), path, String(queries), String(k)], { encoding: 'utf8' }),
    ) as {
      loadSeconds: number;
      queryMs: number[];
    };
    const nms = median(r.queryMs);
    lines.push(`| ${rows.toLocaleString('en-US')} | numpy brute force | ${fmt(r.loadSeconds)} | ${fmt(nms, 1)} | ${fmt(1000 / nms, 0)} |`);
  }
}
if ('error' in py) lines.push('', `numpy skipped: ${py.error}.`);
process.stdout.write(`${lines.join('\n')}\n`);
