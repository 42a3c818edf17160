/**
 * The two units of work of the pipeline, over a ParquetReader: the statistics of one stats task,
 * and the embedding of one shard. Local workers and the Lambdas both call these.
 */
import type { RecordBatch, Vector } from 'apache-arrow';
import type { CompiledFeature } from './kernel.ts';
import type { IdColumn } from './columns.ts';
import type { ParquetReader } from '../parquet/reader.ts';
import type { Shard, StatsTask } from './shard-plan.ts';
import type { Moments } from './stats.ts';
import { embedRows } from './kernel.ts';
import { firstInfinite, infiniteProblem } from './finite.ts';
import { ColumnTypeError, ID_LIMITS, IdBytesError, IdBytesOverflow, firstNull, float64Values, idBytes, toIdColumn } from './columns.ts';
import { DeviationsAccumulator, MomentsAccumulator, type Deviations } from './stats.ts';
import { DataError, InvalidInputError, SchemaError } from '../errors.ts';
import { STATS_BLOCK_ROWS } from './shard-plan.ts';

/** Rows decoded at once when embedding: large enough to amortise calls, small enough to stay in cache-friendly memory. */
export const EMBED_BATCH_ROWS = 65_536;

function column(reader: ParquetReader, batch: RecordBatch, name: string) {
  const v = batch.getChild(name);
  if (!v) throw new SchemaError(reader.source.name, name, 'missing from the decoded batch');
  return v;
}

function numbers(reader: ParquetReader, batch: RecordBatch, name: string, out?: Float64Array): Float64Array {
  try {
    // Read only (the sums, deviations and kernel never write their inputs): a view where the batch holds float64 already.
    return float64Values(column(reader, batch, name), out);
  } catch (e: unknown) {
    if (e instanceof ColumnTypeError)
      throw new SchemaError(reader.source.name, name, `expected a number or boolean column, found ${e.found}`, { cause: e });
    throw e;
  }
}

/**
 * The first statistics pass over one stats task: counts and numpy's pairwise sums. An infinite
 * value is refused, naming its column and row, as scikit-learn refuses it ("Input X contains infinity").
 */
export async function taskMoments(
  reader: ParquetReader,
  task: StatsTask,
  columns: readonly string[],
  chunks: readonly (number | undefined)[] = [],
): Promise<Moments> {
  const start = task.startRow;
  const acc = new MomentsAccumulator(columns.length, reader.layout.numRows, start, task.rows, chunks);
  let done = 0;
  for await (const batch of reader.batches(task.segments, columns, STATS_BLOCK_ROWS)) {
    const values = columns.map((c) => numbers(reader, batch, c));
    values.forEach((x, c) => {
      const i = firstInfinity(x);
      if (i < 0) return;
      throw new DataError(
        reader.source.name,
        columns[c]!,
        `row ${start + done + i} is ${x[i]}: infinite values cannot be standardised (scikit-learn refuses them: "Input X contains infinity")`,
      );
    });
    acc.push(values);
    done += batch.numRows;
  }
  return acc.result();
}

/** The index of the first ±Infinity, or -1. */
function firstInfinity(x: Float64Array): number {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v - v !== 0 && v === v) return i;
  }
  return -1;
}

/**
 * scikit-learn's variance sums over one stats task (its second pass): the deviations of each
 * column from its fitted mean, numpy's pairwise sums. Infinite values were refused by the first pass.
 */
export async function taskDeviations(
  reader: ParquetReader,
  task: StatsTask,
  columns: readonly string[],
  means: readonly number[],
): Promise<Deviations> {
  const acc = new DeviationsAccumulator(means, reader.layout.numRows, task.startRow, task.rows);
  for await (const batch of reader.batches(task.segments, columns, STATS_BLOCK_ROWS))
    acc.push(columns.map((c) => numbers(reader, batch, c)));
  return acc.result();
}

/** What embedding a batch of a shard produced: its place in the shard, its rows and its ids. */
export interface EmbeddedBatch {
  /** Row of the batch's first row, counted from the start of the shard. */
  rowInShard: number;
  rows: number;
  vectors: Float32Array;
  ids: IdColumn;
}

/**
 * Embeds one shard batch by batch, handing each to `sink` in row order; a null id is a DataError
 * naming its row. `into(rowInShard, rows)` gives where a batch's vectors go (rows × dims floats):
 * the shard's own matrix, or a buffer the sink is done with when it returns; by default a new one.
 */
export async function embedShard(
  reader: ParquetReader,
  shard: Shard,
  features: readonly CompiledFeature[],
  idColumn: string,
  sink: (batch: EmbeddedBatch) => Promise<void> | void,
  into: (rowInShard: number, rows: number) => Float32Array = (_, rows) => new Float32Array(rows * features.length),
): Promise<void> {
  const names = [...new Set([...features.map((f) => f.column), idColumn])];
  const dims = features.length;
  const scratch = new Map<string, Float64Array>();
  let rowInShard = 0;
  let idBytesHeld = 0;
  // Each batch's numbers are embedded before the next is asked for: the reader may reuse their memory.
  for await (const batch of reader.batches(shard.segments, names, EMBED_BATCH_ROWS, { transient: true })) {
    const n = batch.numRows;
    const values = new Map<string, Float64Array>();
    for (const f of features) {
      if (values.has(f.column)) continue;
      let buf = scratch.get(f.column);
      if (!buf || buf.length < n) scratch.set(f.column, (buf = new Float64Array(n)));
      values.set(f.column, numbers(reader, batch, f.column, buf));
    }
    const idVector = column(reader, batch, idColumn);
    const nullAt = firstNull(idVector);
    if (nullAt >= 0) {
      throw new DataError(reader.source.name, idColumn, `null id at row ${shard.startRow + rowInShard + nullAt}; every track needs an id`);
    }
    const ids = idsOf(reader, idVector, idColumn, () => `rows ${shard.startRow + rowInShard}–${shard.startRow + rowInShard + n - 1}`);
    // The shard's mapping fragment holds every row's id written out: refused before it cannot be held.
    idBytesHeld += idBytes(ids);
    if (idBytesHeld > ID_LIMITS.total) {
      const where = `rows ${shard.startRow}–${shard.startRow + rowInShard + n - 1} (shard ${shard.index})`;
      throw new IdBytesError(reader.source.name, idColumn, where, idBytesHeld);
    }
    const vectors = into(rowInShard, n);
    if (vectors.length !== n * dims) throw new RangeError(`room for ${vectors.length} floats, ${n} rows × ${dims} need ${n * dims}`);
    embedRows(
      features,
      features.map((f) => values.get(f.column)!),
      n,
      vectors,
    );
    // A fit on this file refused these in its statistics pass; a scaler fitted on another file
    // (transform) meets an infinite value, or one beyond float32's range once standardised, here.
    const bad = firstInfinite(features, vectors, n, (f) => f.standardize);
    if (bad) {
      const f = features[bad.dim]!;
      const x = values.get(f.column)![bad.row]!;
      throw new DataError(reader.source.name, f.column, `row ${shard.startRow + rowInShard + bad.row} ${infiniteProblem(f, x)}`);
    }
    await sink({ rowInShard, rows: n, vectors, ids });
    rowInShard += n;
  }
  if (rowInShard !== shard.rows) {
    throw new InvalidInputError(reader.source.name, `shard ${shard.index} decoded ${rowInShard} rows, expected ${shard.rows}`);
  }
}

/** A batch's ids as a column; a type that is not a string, or more bytes than can be held, is refused naming the column. */
function idsOf(reader: ParquetReader, vector: Vector, idColumn: string, where: () => string): IdColumn {
  try {
    return toIdColumn(vector);
  } catch (e: unknown) {
    if (e instanceof ColumnTypeError)
      throw new SchemaError(reader.source.name, idColumn, `expected a string column of track ids, found ${e.found}`, { cause: e });
    if (e instanceof IdBytesOverflow) throw new IdBytesError(reader.source.name, idColumn, where(), e.bytes, { cause: e });
    throw e;
  }
}

/** Every id of the file in row order: the rare path that rebuilds a mapping with repeated ids. */
export async function readAllIds(reader: ParquetReader, idColumn: string): Promise<IdColumn[]> {
  const out: IdColumn[] = [];
  const all = reader.layout.rowGroups.map((group, g) => ({ rowGroup: g, offset: 0, rows: group.numRows }));
  let row = 0;
  for await (const batch of reader.batches(all, [idColumn], EMBED_BATCH_ROWS)) {
    out.push(idsOf(reader, column(reader, batch, idColumn), idColumn, () => `rows ${row}–${row + batch.numRows - 1}`));
    row += batch.numRows;
  }
  return out;
}
