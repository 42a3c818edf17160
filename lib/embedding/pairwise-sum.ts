/**
 * numpy's sum of a float64 column, bit for bit, computed in pieces.
 *
 * scikit-learn's StandardScaler takes the column sum from `np.nansum(X, axis=0)` over a
 * Fortran-ordered matrix: numpy's pairwise summation over the whole column, NaN counted as 0.
 * A range of at most 128 values is a leaf, summed with 8 interleaved accumulators combined as
 * `((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7))`, the remainder added in order (fewer than 8 values:
 * added in order from 0); a longer range splits at n/2 rounded down to a multiple of 8, and its
 * sum is left + right. The tree depends only on the column's length, so a piece of rows can sum
 * the tree nodes wholly inside it and keep the raw values of the at most two leaves its ends cut;
 * `compact` then evaluates what the pieces together cover. The root's sum is numpy's for any
 * split of the rows into pieces, in any grouping.
 */

/** Longest range numpy sums as one leaf (PW_BLOCKSIZE). */
export const LEAF_MAX = 128;

/**
 * What some pieces of a column of `total` values know of its pairwise sum. With `chunk`, the
 * column is summed as numpy sums a float32 column into a float64 total (through its 8,192-value
 * cast buffers): each chunk of `chunk` values pairwise, the chunk sums added in order from 0.
 */
export interface PairwisePartial {
  total: number;
  /** Values per chunk; the whole column (one tree) when absent. */
  chunk?: number;
  /** Sums of whole tree nodes: [start, length, sum]. */
  nodes: [number, number, number][];
  /** Values of leaves covered only in part: [start of the values, values]. */
  cuts: [number, Float64Array][];
}

const clean = (v: number) => (v !== v ? 0 : v);

/** numpy's sum of `n` values of `a` from `from`: a leaf (n ≤ 128), NaN as 0. */
export function leafSum(a: ArrayLike<number>, from: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += clean(a[from + i]!);
    return res;
  }
  let r0 = clean(a[from]!);
  let r1 = clean(a[from + 1]!);
  let r2 = clean(a[from + 2]!);
  let r3 = clean(a[from + 3]!);
  let r4 = clean(a[from + 4]!);
  let r5 = clean(a[from + 5]!);
  let r6 = clean(a[from + 6]!);
  let r7 = clean(a[from + 7]!);
  const whole = n - (n % 8);
  let i = 8;
  for (; i < whole; i += 8) {
    const p = from + i;
    r0 += clean(a[p]!);
    r1 += clean(a[p + 1]!);
    r2 += clean(a[p + 2]!);
    r3 += clean(a[p + 3]!);
    r4 += clean(a[p + 4]!);
    r5 += clean(a[p + 5]!);
    r6 += clean(a[p + 6]!);
    r7 += clean(a[p + 7]!);
  }
  let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
  for (; i < n; i++) res += clean(a[from + i]!);
  return res;
}

/** Where numpy splits a range of `n` > 128 values: n/2 rounded down to a multiple of 8. */
export function splitAt(n: number): number {
  const half = Math.floor(n / 2);
  return half - (half % 8);
}

/** numpy's pairwise sum of a whole array (what `np.add.reduce` gives for a contiguous float64 column). */
export function pairwiseSum(a: ArrayLike<number>, from = 0, n = a.length - from): number {
  if (n <= LEAF_MAX) return leafSum(a, from, n);
  const n2 = splitAt(n);
  return pairwiseSum(a, from, n2) + pairwiseSum(a, from + n2, n - n2);
}

/** numpy's chunk size when it sums float32 values into float64 (NPY_BUFSIZE). */
export const CAST_BUFFER = 8192;

/** The trees of a column: one over all `total` values, or one per chunk: [start, length]. */
export function treesOf(total: number, chunk = total): [number, number][] {
  const out: [number, number][] = [];
  for (let start = 0; start < total; start += chunk) out.push([start, Math.min(chunk, total - start)]);
  return out;
}

/** The leaves of the column's trees that meet [lo, hi), in order: [start, length]. */
export function leavesIn(total: number, lo: number, hi: number, chunk = total): [number, number][] {
  const out: [number, number][] = [];
  const visit = (start: number, n: number): void => {
    if (start >= hi || start + n <= lo) return;
    if (n <= LEAF_MAX) {
      out.push([start, n]);
      return;
    }
    const n2 = splitAt(n);
    visit(start, n2);
    visit(start + n2, n - n2);
  };
  const first = chunk > 0 ? Math.floor(lo / chunk) * chunk : 0;
  for (let start = first; start < Math.min(hi, total); start += chunk) visit(start, Math.min(chunk, total - start));
  return out;
}

/**
 * Sums values of rows [lo, lo + count) of a column of `total` values as they arrive in batches:
 * each leaf wholly inside is summed, the values of a leaf cut by either end are kept.
 */
export class PairwiseAccumulator {
  private readonly leaves: [number, number][];
  private leaf = 0;
  /** The sum of each leaf wholly inside the range, in leaf order (NaN-free: a leaf sum is never NaN). */
  private readonly sums: Float64Array;
  /** Values of the current leaf that arrived in earlier batches (a leaf straddling two batches). */
  private readonly pending = new Float64Array(LEAF_MAX);
  private pendingCount = 0;
  private row: number;
  private readonly cuts: [number, Float64Array][] = [];

  constructor(
    private readonly total: number,
    private readonly lo: number,
    private readonly count: number,
    private readonly chunk?: number,
  ) {
    this.leaves = leavesIn(total, lo, lo + count, chunk);
    this.sums = new Float64Array(this.leaves.length).fill(NaN);
    this.row = lo;
  }

  /** The next values of the range, in row order. */
  push(values: ArrayLike<number>): void {
    let at = 0;
    while (at < values.length) {
      const [start, n] = this.leaves[this.leaf]!;
      const from = Math.max(start, this.lo);
      const to = Math.min(start + n, this.lo + this.count);
      const need = to - this.row;
      const take = Math.min(need, values.length - at);
      if (this.pendingCount === 0 && take === need && from === start && to === start + n) {
        // The whole leaf is in this batch: summed in place.
        this.sums[this.leaf] = leafSum(values, at, n);
      } else {
        for (let i = 0; i < take; i++) this.pending[this.pendingCount++] = values[at + i]!;
        if (take === need) {
          if (from === start && to === start + n) this.sums[this.leaf] = leafSum(this.pending, 0, n);
          else this.cuts.push([from, this.pending.slice(0, this.pendingCount)]);
          this.pendingCount = 0;
        }
      }
      at += take;
      this.row += take;
      if (take === need) this.leaf++;
    }
  }

  /** What the range knows: its largest whole nodes (built from the leaf sums in one walk) and its cut leaves. */
  result(): PairwisePartial {
    if (this.row !== this.lo + this.count) throw new RangeError(`pairwise sum: got ${this.row - this.lo} of ${this.count} values`);
    const { lo, total, chunk } = this;
    const hi = lo + this.count;
    const out: PairwisePartial = { total, nodes: [], cuts: this.cuts, ...(chunk !== undefined && chunk < total && { chunk }) };
    let leaf = 0;
    /** The node's sum when wholly inside the range; else null, its inside parts emitted. */
    const visit = (start: number, n: number): number | null => {
      if (start >= hi || start + n <= lo) return null;
      if (n <= LEAF_MAX) {
        const sum = this.sums[leaf++]!;
        return start >= lo && start + n <= hi ? sum : null;
      }
      const n2 = splitAt(n);
      const left = visit(start, n2);
      const right = visit(start + n2, n - n2);
      if (start >= lo && start + n <= hi) return left! + right!;
      if (left !== null) out.nodes.push([start, n2, left]);
      if (right !== null) out.nodes.push([start + n2, n - n2, right]);
      return null;
    };
    for (const [start, n] of treesOf(total, chunk)) {
      if (start >= hi || start + n <= lo) continue;
      const root = visit(start, n);
      if (root !== null) out.nodes.push([start, n, root]);
    }
    return out;
  }
}

/**
 * Merges partials of the same column (disjoint pieces, any order) into the largest whole nodes
 * they cover; cut leaves whose pieces now cover them are summed. A partial that covers the column
 * is the single node of its root.
 */
export function compact(all: readonly PairwisePartial[]): PairwisePartial {
  // A partial that knows nothing (no rows yet) is neutral, whatever its total.
  const parts = all.filter((p) => p.nodes.length > 0 || p.cuts.length > 0);
  const total = parts[0]?.total ?? 0;
  const chunk = parts[0]?.chunk;
  const nodes = new Map<string, number>();
  // Every known piece as an interval, sorted, for "does anything meet this range" and leaf assembly.
  const spans: { lo: number; hi: number; values?: Float64Array }[] = [];
  for (const p of parts) {
    if (p.total !== total || p.chunk !== chunk) throw new RangeError(`pairwise sum: partials of columns of ${p.total} and ${total} values`);
    for (const [lo, n, sum] of p.nodes) {
      nodes.set(`${lo}:${n}`, sum);
      spans.push({ lo, hi: lo + n });
    }
    for (const [lo, values] of p.cuts) spans.push({ lo, hi: lo + values.length, values });
  }
  spans.sort((a, b) => a.lo - b.lo);
  const firstEndingAfter = (x: number) => {
    let a = 0;
    let b = spans.length;
    while (a < b) {
      const m = (a + b) >> 1;
      if (spans[m]!.hi <= x) a = m + 1;
      else b = m;
    }
    return a;
  };
  const out: PairwisePartial = { total, nodes: [], cuts: [], ...(chunk !== undefined && { chunk }) };

  /** The node's sum when the pieces cover it, else null (its covered parts are emitted into `out`). */
  const visit = (start: number, n: number): number | null => {
    const known = nodes.get(`${start}:${n}`);
    if (known !== undefined) return known;
    const first = firstEndingAfter(start);
    if (first >= spans.length || spans[first]!.lo >= start + n) return null;
    if (n <= LEAF_MAX) return leafFromPieces(start, n, first);
    const n2 = splitAt(n);
    const left = visit(start, n2);
    const right = visit(start + n2, n - n2);
    if (left !== null && right !== null) return left + right;
    if (left !== null) out.nodes.push([start, n2, left]);
    if (right !== null) out.nodes.push([start + n2, n - n2, right]);
    return null;
  };

  /** A leaf assembled from cut pieces: its sum when they cover it, else its pieces go to `out`. */
  const leafFromPieces = (start: number, n: number, first: number): number | null => {
    const values = new Float64Array(n);
    let covered = 0;
    const pieces: [number, Float64Array][] = [];
    for (let i = first; i < spans.length && spans[i]!.lo < start + n; i++) {
      const s = spans[i]!;
      if (!s.values) throw new RangeError(`pairwise sum: node [${s.lo}, ${s.hi}) overlaps leaf [${start}, ${start + n})`);
      values.set(s.values, s.lo - start);
      covered += s.values.length;
      pieces.push([s.lo, s.values]);
    }
    if (covered === n) return leafSum(values, 0, n);
    out.cuts.push(...pieces);
    return null;
  };

  for (const [start, n] of treesOf(total, chunk)) {
    const root = visit(start, n);
    if (root !== null) out.nodes.push([start, n, root]);
  }
  return out;
}

/** The column's sum, numpy's bits, once the partials cover every value; -0 never (numpy starts from +0). */
export function rootSum(p: PairwisePartial): number {
  const trees = treesOf(p.total, p.chunk);
  const roots = new Map(p.nodes.map(([lo, n, sum]) => [`${lo}:${n}`, sum]));
  if (p.cuts.length > 0 || p.nodes.length !== trees.length) throw new RangeError('pairwise sum: the partials do not cover the column');
  let sum = 0;
  for (const [lo, n] of trees) {
    const root = roots.get(`${lo}:${n}`);
    if (root === undefined) throw new RangeError('pairwise sum: the partials do not cover the column');
    sum += root;
  }
  return sum;
}
