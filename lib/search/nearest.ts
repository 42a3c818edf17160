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

/** The squared euclidean distance of row `base` from `q`, NaN dimensions left out. */
function squaredWithNaN(vectors: Float32Array, base: number, q: Float64Array, dims: number): number {
  let s = 0;
  for (let d = 0; d < dims; d++) {
    const diff = vectors[base + d]! - q[d]!;
    if (diff === diff) s += diff * diff;
  }
  return s;
}

/** The cosine distance (1 − cos) of row `base` from `q`, NaN dimensions left out; 1 when either is all zero. */
function cosine(vectors: Float32Array, base: number, q: Float64Array, dims: number): number {
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

/** The k best (smallest score, then lowest row) of rows offered in row order: a max-heap in parallel arrays. */
class TopK {
  readonly rows: Int32Array;
  readonly scores: Float64Array;
  size = 0;

  constructor(private readonly k: number) {
    this.rows = new Int32Array(k);
    this.scores = new Float64Array(k);
  }

  /** The score a row must beat to enter (rows come in order: a tie with the worst never enters once full). */
  get bar(): number {
    return this.size < this.k ? Infinity : this.scores[0]!;
  }

  offer(row: number, score: number): void {
    if (this.size < this.k) {
      this.rows[this.size] = row;
      this.scores[this.size] = score;
      for (let i = this.size++; i > 0;) {
        const p = (i - 1) >> 1;
        if (!this.worse(i, p)) break;
        this.swap(i, p);
        i = p;
      }
    } else if (score < this.scores[0]!) {
      this.rows[0] = row;
      this.scores[0] = score;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.size && this.worse(l, m)) m = l;
        if (r < this.size && this.worse(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
  }

  private worse(a: number, b: number): boolean {
    const { scores, rows } = this;
    return scores[a]! > scores[b]! || (scores[a] === scores[b] && rows[a]! > rows[b]!);
  }

  private swap(a: number, b: number): void {
    const { scores, rows } = this;
    [rows[a], rows[b]] = [rows[b]!, rows[a]!];
    [scores[a], scores[b]] = [scores[b]!, scores[a]!];
  }
}

/**
 * The euclidean scan for the 14 dimensions of the default spec, unrolled with the query in
 * locals: V8 keeps them in registers (about 2× the generic loop at 10M rows).
 */
function scan14(v: Float32Array, first: number, q: Float64Array, top: TopK, exclude: ReadonlySet<number>): void {
  const [q0, q1, q2, q3, q4, q5, q6, q7, q8, q9, q10, q11, q12, q13] = q as unknown as number[];
  const rows = v.length / 14;
  let bar = top.bar;
  for (let r = 0, b = 0; r < rows; r++, b += 14) {
    const d0 = v[b]! - q0!,
      d1 = v[b + 1]! - q1!,
      d2 = v[b + 2]! - q2!,
      d3 = v[b + 3]! - q3!;
    let s = d0 * d0 + d1 * d1 + d2 * d2 + d3 * d3;
    // A prefix of the sum only grows (every term is ≥ 0 and rounding is monotone): at or above
    // the bar, the row cannot enter. A NaN prefix fails the test and is summed in full.
    if (s >= bar) continue;
    const d4 = v[b + 4]! - q4!,
      d5 = v[b + 5]! - q5!,
      d6 = v[b + 6]! - q6!,
      d7 = v[b + 7]! - q7!;
    s = s + d4 * d4 + d5 * d5 + d6 * d6 + d7 * d7;
    if (s >= bar) continue;
    const d8 = v[b + 8]! - q8!,
      d9 = v[b + 9]! - q9!,
      d10 = v[b + 10]! - q10!,
      d11 = v[b + 11]! - q11!;
    const d12 = v[b + 12]! - q12!,
      d13 = v[b + 13]! - q13!;
    s = s + d8 * d8 + d9 * d9 + d10 * d10 + d11 * d11 + d12 * d12 + d13 * d13;
    if (s !== s) s = squaredWithNaN(v, b, q, 14);
    if (s < bar && !exclude.has(first + r)) {
      top.offer(first + r, s);
      bar = top.bar;
    }
  }
}

/** The k rows nearest to `query`, nearest first, without the rows in `exclude`; a k above the row count answers every row. */
export function nearest(
  vectors: Float32Array,
  dims: number,
  query: Float64Array,
  k: number,
  metric: Metric,
  exclude: ReadonlySet<number> = new Set(),
): Neighbour[] {
  const scan = nearestScan(vectors.length / dims, dims, query, k, metric, exclude);
  scan.offer(vectors, 0);
  return scan.result();
}

/** A scan fed the matrix a block of rows at a time, in row order (a file read in chunks); the same answer as `nearest`. */
export interface NearestScan {
  /** Rows `first` … of the matrix; blocks must come in row order, each starting where the last ended. */
  offer(block: Float32Array, first: number): void;
  result(): Neighbour[];
}

/** A scan for the k rows of `rows` nearest to `query` (see `nearest`). */
export function nearestScan(
  rows: number,
  dims: number,
  query: Float64Array,
  k: number,
  metric: Metric,
  exclude: ReadonlySet<number> = new Set(),
): NearestScan {
  // Sized by what can be found, not by what was asked: --k 4294967296 is "all of them".
  const top = new TopK(Math.max(0, Math.min(k, rows)));
  let next = 0;
  return {
    offer(vectors, first) {
      if (first !== next) throw new RangeError(`nearestScan: offered rows from ${first}, expected ${next}`);
      next += vectors.length / dims;
      if (k <= 0) return;
      if (metric === 'euclidean' && dims === 14) scan14(vectors, first, query, top, exclude);
      else if (metric === 'euclidean') scanEuclidean(vectors, first, dims, query, top, exclude);
      else scanCosine(vectors, first, dims, query, top, exclude);
    },
    result() {
      const out: Neighbour[] = [];
      for (let i = 0; i < top.size; i++)
        out.push({ row: top.rows[i]!, distance: metric === 'euclidean' ? Math.sqrt(top.scores[i]!) : top.scores[i]! });
      return out.sort((a, b) => a.distance - b.distance || a.row - b.row);
    },
  };
}

function scanEuclidean(vectors: Float32Array, first: number, dims: number, query: Float64Array, top: TopK, exclude: ReadonlySet<number>) {
  const rows = vectors.length / dims;
  let bar = top.bar;
  for (let r = 0, base = 0; r < rows; r++, base += dims) {
    // The plain sum first; a NaN in it means a NaN dimension, summed again without it.
    let s = 0;
    for (let d = 0; d < dims; d++) {
      const diff = vectors[base + d]! - query[d]!;
      s += diff * diff;
    }
    if (s !== s) s = squaredWithNaN(vectors, base, query, dims);
    if (s < bar && !exclude.has(first + r)) {
      top.offer(first + r, s);
      bar = top.bar;
    }
  }
}

function scanCosine(vectors: Float32Array, first: number, dims: number, query: Float64Array, top: TopK, exclude: ReadonlySet<number>) {
  const rows = vectors.length / dims;
  for (let r = 0, base = 0; r < rows; r++, base += dims) {
    const c = cosine(vectors, base, query, dims);
    if (c < top.bar && !exclude.has(first + r)) top.offer(first + r, c);
  }
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
