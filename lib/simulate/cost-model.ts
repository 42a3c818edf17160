/**
 * CPU seconds and memory of each step's work, from the calibration in figures.ts: what the
 * simulated functions charge instead of decoding and embedding rows that are not there.
 */
import { CALIBRATION as C } from './figures.ts';

const MI = 1_048_576;

/** Embedding `rows` rows: decode and kernel, one core of this machine. */
export const embedCpuMs = (rows: number) => (rows * C.embedCpuPerRowUs.value) / 1000;
export const embedPeakMiB = (rows: number) => 100 + ((C.embedPeakMiBPerMiRows.value - 100) * rows) / MI;
/** One statistics pass (sums, or deviations) over `rows` rows: half of the measured both-pass rate. */
export const statsPassCpuMs = (rows: number) => (rows * C.statsCpuPerRowUs.value) / 2 / 1000;

/** The repeated-id check's k-way merge of `rows` hashes from `k` shards: log-log between the measured k. */
export function mergeCpuMs(rows: number, k: number): number {
  const pts: [number, number][] = [
    [10, C.mergeHashesPerS.k10.value],
    [100, C.mergeHashesPerS.k100.value],
    [1000, C.mergeHashesPerS.k1000.value],
  ];
  const x = Math.log10(Math.max(2, k));
  const [a, b] = x <= 2 ? [pts[0]!, pts[1]!] : [pts[1]!, pts[2]!];
  const t = (x - Math.log10(a[0])) / (Math.log10(b[0]) - Math.log10(a[0]));
  const rate = 10 ** (Math.log10(a[1]) + t * (Math.log10(b[1]) - Math.log10(a[1])));
  return (rows / rate) * 1000;
}

/** The reducer's pass over a mapping with repeated ids (main's dict-mapping): µs per row grows with rows, log-linear between 2M and 20M. */
export function repeatsCpuMs(rows: number): number {
  const a = C.repeatsUsPerRowAt2M.value;
  const b = C.repeatsUsPerRowAt20M.value;
  const perRow = Math.max(a, a + (b - a) * Math.log10(rows / 2e6));
  return (rows * perRow) / 1000;
}

export const reducePeakMiB = (shards: number, repeats: boolean) =>
  Math.max(
    repeats ? C.repeatsPeakMiB.value : 0,
    C.reduceBaseMiB.value + 32 + 128 + Math.max(0, shards - 1000) * (C.reducePerShardKiBPast1000.value / 1024),
  );
