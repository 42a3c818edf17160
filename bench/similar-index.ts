/**
 * npm run bench:similar-index -- [--rows 169776,1000000] [--queries 100] [--k 10] [--connectivity 16]
 * Whether an approximate index would serve `similar` better than the exact scan: usearch's HNSW
 * (prebuilt binaries in its npm package; L2 squared over float32, 2 threads to build, 1 to
 * search) against lib/search/nearest.ts on the same matrices as bench:similar (seeded normal
 * values, and the generated tracks' embeddings). Prints build time, the index's memory (RSS
 * growth), the median time per query of each, and recall@10: the share of the exact 10 nearest
 * (the query row left out) the index returns. The issue's rule: adopt only at recall@10 ≥ 0.99.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import usearch from 'usearch';
import { parseNpy } from '../lib/search/embeddings.ts';
import { nearest } from '../lib/search/nearest.ts';
import { fmt, normalVectors, trackVectors } from './data.ts';
import { median } from './measure.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '169776,1000000' },
    queries: { type: 'string', default: '100' },
    k: { type: 'string', default: '10' },
    connectivity: { type: 'string', default: '16' },
  },
});
const DIMS = 14;
const k = Number(values.k);
const queries = Number(values.queries);
const lines = [
  `usearch ${usearchVersion()} HNSW (connectivity ${values.connectivity}) against the exact scan; ${queries} queries each, medians; recall@${k} against the exact answer.`,
  '',
  `| rows, matrix | index build (s) | index memory (MiB) | index query (ms) | exact query (ms) | recall@${k} |`,
  '|---:|---:|---:|---:|---:|---:|',
];
for (const rows of values.rows.split(',').map(Number)) {
  for (const [kind, path] of [
    ['normal', normalVectors(rows)],
    ['tracks', trackVectors(rows)],
  ] as const) {
    const { data } = parseNpy(readFileSync(path), path);
    const rss0 = process.memoryUsage().rss;
    let t = performance.now();
    const index = new usearch.Index({
      dimensions: DIMS,
      metric: usearch.MetricKind.L2sq,
      quantization: usearch.ScalarKind.F32,
      connectivity: Number(values.connectivity),
      // usearch's defaults.
      expansion_add: 0,
      expansion_search: 0,
      multi: false,
    });
    const keys = new BigUint64Array(rows);
    for (let i = 0; i < rows; i++) keys[i] = BigInt(i);
    index.add(keys, data, 2);
    const build = (performance.now() - t) / 1000;
    const memory = (process.memoryUsage().rss - rss0) / 2 ** 20;
    const indexMs: number[] = [];
    const exactMs: number[] = [];
    let found = 0;
    for (let q = 0; q < queries; q++) {
      const r = Math.floor((q * rows) / queries);
      const vector = data.subarray(r * DIMS, (r + 1) * DIMS);
      t = performance.now();
      // One more than k: the query row itself is among them, and left out as `similar` does.
      const m = index.search(vector, k + 1, 1);
      indexMs.push(performance.now() - t);
      t = performance.now();
      const truth = new Set(nearest(data, DIMS, Float64Array.from(vector), k, 'euclidean', new Set([r])).map((n) => n.row));
      exactMs.push(performance.now() - t);
      const got = [...m.keys]
        .map(Number)
        .filter((x) => x !== r)
        .slice(0, k);
      found += got.filter((x) => truth.has(x)).length;
    }
    lines.push(
      `| ${rows.toLocaleString('en-US')} ${kind} | ${fmt(build, 1)} | ${fmt(memory, 0)} | ${fmt(median(indexMs), 2)} | ${fmt(median(exactMs), 1)} | ${fmt(found / (queries * k), 4)} |`,
    );
    process.stderr.write(`${lines.at(-1)}\n`);
  }
}
process.stdout.write(`${lines.join('\n')}\n`);

function usearchVersion(): string {
  return (JSON.parse(readFileSync(new URL('../node_modules/usearch/package.json', import.meta.url), 'utf8')) as { version: string })
    .version;
}
