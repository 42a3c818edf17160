/**
 * Exact k-nearest-neighbour search over the embedding matrix: a scan of every row, keeping the k
 * best in a bounded max-heap. Ties go to the lower row. A NaN dimension (a null feature) is left
 * out of that pair's distance, for both metrics.
 */
export type Metric = 'euclidean' | 'cosine';

export interface Neighbour {
  row: number;
  distance: number;
}

/** Euclidean distance, or cosine distance (1 − cos), between row `r` of `vectors` and `q`. */
function distance(vectors: Float32Array, r: number, q: Float64Array, dims: number, metric: Metric): number {
  const base = r * dims;
  if (metric === 'euclidean') {
    let s = 0;
    for (let d = 0; d < dims; d++) {
      const diff = vectors[base + d]! - q[d]!;
      if (diff === diff) s += diff * diff;
    }
    return Math.sqrt(s);
  }
  let dot = 0;
  let nx = 0;
  let nq = 0;
  for (let d = 0; d < dims; d++) {
    const x = vectors[base + d]!;
    const y = q[d]!;
    if (x !== x || y !== y) continue;
    dot += x * y;
    nx += x * x;
    nq += y * y;
  }
  return nx === 0 || nq === 0 ? 1 : 1 - dot / Math.sqrt(nx * nq);
}

/** Worse first: larger distance, then larger row. */
const worse = (a: Neighbour, b: Neighbour) => a.distance > b.distance || (a.distance === b.distance && a.row > b.row);

/** The k rows nearest to `query`, nearest first, without the rows in `exclude`. */
export function nearest(
  vectors: Float32Array,
  dims: number,
  query: Float64Array,
  k: number,
  metric: Metric,
  exclude: ReadonlySet<number> = new Set(),
): Neighbour[] {
  const rows = vectors.length / dims;
  const heap: Neighbour[] = []; // max-heap by `worse`
  const up = (i: number) => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!worse(heap[i]!, heap[p]!)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && worse(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && worse(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  for (let r = 0; r < rows; r++) {
    if (exclude.has(r)) continue;
    const candidate = { row: r, distance: distance(vectors, r, query, dims, metric) };
    if (heap.length < k) {
      heap.push(candidate);
      up(heap.length - 1);
    } else if (k > 0 && worse(heap[0]!, candidate)) {
      heap[0] = candidate;
      down(0);
    }
  }
  return heap.sort((a, b) => a.distance - b.distance || a.row - b.row);
}

/** The mean of some rows (a playlist's seeds), NaN dimensions left out of each dimension's mean. */
export function meanOf(vectors: Float32Array, dims: number, rows: readonly number[]): Float64Array {
  const sum = new Float64Array(dims);
  const count = new Float64Array(dims);
  for (const r of rows)
    for (let d = 0; d < dims; d++) {
      const v = vectors[r * dims + d]!;
      if (v === v) {
        sum[d]! += v;
        count[d]! += 1;
      }
    }
  return sum.map((s, d) => (count[d]! > 0 ? s / count[d]! : NaN));
}
