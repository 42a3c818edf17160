/**
 * CPU seconds and memory of each step's work, from the calibration in figures.ts: what the
 * simulated functions charge instead of decoding, embedding and sorting rows that are not there.
 */
import { CALIBRATION as C } from './figures.ts';

const MI = 1_048_576;

/** Embedding `rows` rows: decode, kernel, mapping fragment, the id index's sorted keys and row block; one core of this machine. */
export const embedCpuMs = (rows: number) => (rows * C.embedCpuPerRowUs.value) / 1000;
export const embedPeakMiB = (rows: number) => 100 + ((C.embedPeakMiBPerMiRows.value - 100) * rows) / MI;
/** One statistics pass (sums, or deviations) over `rows` rows: half of the measured both-pass rate. */
export const statsPassCpuMs = (rows: number) => (rows * C.statsCpuPerRowUs.value) / 2 / 1000;

/** One index partition of `records` key records: buildPartition (sort, repeats, the piece). */
export const partitionCpuMs = (records: number) => (records * C.partitionCpuPerRecordUs.value) / 1000;
export const partitionPeakMiB = (records: number) => C.reduceBaseMiB.value + (C.partitionPeakMiBPerMiRecords.value * records) / MI;

/** Rewriting `rows` entries of a mapping fragment with its changes. */
export const rewriteCpuMs = (rows: number) => (rows * C.rewriteCpuPerRowUs.value) / 1000;
/** The change map, two 8 MiB chunks (the one parsed, with its carry, and the next), and the rewritten fragment in one buffer. */
export const rewritePeakMiB = (changes: number, outBytes: number) =>
  C.reduceBaseMiB.value + (changes * C.mapEntryBytes.value + 3 * 8 * MI + outBytes) / MI;

/** The reducer stitches only: its base and the stitches' part buffers (4 outputs side by side, 4 × 8 MiB each). */
export const reducePeakMiB = () => C.reduceBaseMiB.value + 4 * 4 * 8;
