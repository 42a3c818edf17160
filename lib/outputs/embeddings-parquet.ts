/**
 * `embeddings.parquet`: each row's id, its row in the .npy, and its vector as a fixed-size list of
 * float32, the shape pyarrow, DuckDB's ARRAY type and LanceDB read as a vector column.
 */
import { FixedSizeList, Field, Float32, Int64, RecordBatch, makeData, Struct, Schema } from 'apache-arrow';
import { idColumnData, type IdColumn } from '../embedding/columns.ts';

/** Rows `[firstRow, firstRow + n)` of the embeddings as one record batch. */
export function embeddingsBatch(ids: IdColumn, firstRow: number, vectors: Float32Array, dims: number): RecordBatch {
  const idData = idColumnData(ids);
  const n = idData.length;
  const item = new Field('item', new Float32(), false);
  const schema = new Schema([
    new Field('id', idData.type, false),
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
      idData,
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
