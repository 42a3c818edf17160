/** Parquet files whose footer says something their pages do not: a row group's row count changed by `delta`. */
import {
  I64_TYPE,
  LIST_TYPE,
  encodeI64,
  encodeList,
  encodeStruct,
  listElements,
  structFields,
  STRUCT_TYPE,
} from '../../lib/parquet/thrift-compact.ts';

/** `bytes` (a Parquet file) with row group `group`'s num_rows, and the file's, off by `delta`. */
export function withRowCountOff(bytes: Uint8Array, group: number, delta: number): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const footerLength = view.getUint32(bytes.length - 8, true);
  const footer = bytes.subarray(bytes.length - 8 - footerLength, bytes.length - 8);
  const readI64 = (value: Uint8Array) => {
    let n = 0;
    let scale = 1;
    for (const b of value) {
      n += (b & 0x7f) * scale;
      scale *= 128;
      if (b < 0x80) break;
    }
    return n / 2;
  };
  const fields = structFields(footer).map((f) => {
    // FileMetaData: 3 num_rows, 4 row_groups; RowGroup: 3 num_rows.
    if (f.id === 3 && f.type === I64_TYPE) return { ...f, value: encodeI64(readI64(f.value) + delta) };
    if (f.id !== 4 || f.type !== LIST_TYPE) return f;
    const groups = listElements(f.value).map((g, i) =>
      i !== group
        ? g
        : encodeStruct(
            structFields(g).map((r) => (r.id === 3 && r.type === I64_TYPE ? { ...r, value: encodeI64(readI64(r.value) + delta) } : r)),
          ),
    );
    return { ...f, value: encodeList(STRUCT_TYPE, groups) };
  });
  const meta = encodeStruct(fields);
  const out = new Uint8Array(bytes.length - 8 - footerLength + meta.length + 8);
  out.set(bytes.subarray(0, bytes.length - 8 - footerLength));
  out.set(meta, bytes.length - 8 - footerLength);
  const tail = new DataView(out.buffer, out.length - 8);
  tail.setUint32(0, meta.length, true);
  out.set([0x50, 0x41, 0x52, 0x31], out.length - 4);
  return out;
}
