/**
 * `embeddings.parquet`: each row's id, its row in the .npy, and its vector as a fixed-size list of
 * float32, the shape pyarrow, DuckDB's ARRAY type and LanceDB read as a vector column.
 */
import { FixedSizeList, Field, Float32, Int64, RecordBatch, Utf8, makeData, Struct, Schema } from 'apache-arrow';
import type { IdColumn } from '../embedding/columns.ts';

/** Rows `[firstRow, firstRow + n)` of the embeddings as one record batch. */
export function embeddingsBatch(ids: IdColumn, firstRow: number, vectors: Float32Array, dims: number): RecordBatch {
  const n = ids.offsets.length - 1;
  const item = new Field('item', new Float32(), false);
  const schema = new Schema([
    new Field('id', new Utf8(), false),
    new Field('row', new Int64(), false),
    new Field('vector', new FixedSizeList(dims, item), false),
  ]);
  const rows = new BigInt64Array(n);
  for (let i = 0; i < n; i++) rows[i] = BigInt(firstRow + i);
  const data = makeData({
    type: new Struct(schema.fields),
    length: n,
    nullCount: 0,
    children: [
      makeData({ type: new Utf8(), length: n, nullCount: 0, valueOffsets: ids.offsets, data: ids.data }),
      makeData({ type: new Int64(), length: n, nullCount: 0, data: rows }),
      makeData({
        type: new FixedSizeList(dims, item),
        length: n,
        nullCount: 0,
        child: makeData({ type: new Float32(), length: n * dims, nullCount: 0, data: vectors.subarray(0, n * dims) }),
      }),
    ],
  });
  return new RecordBatch(schema, data);
}
