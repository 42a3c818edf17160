/**
 * The input as the simulated S3 serves it: a Parquet footer of the wanted rows and row groups,
 * real Thrift the project's own footer reader and parquet-wasm both accept, in front of bytes
 * that are never materialised. Its schema and column order come from a tiny file the project's
 * generator writes; each column chunk is sized by the generated files' bytes per row.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTracksParquet } from '../generate/write-parquet.ts';
import {
  encodeI64,
  encodeList,
  encodeStruct,
  I64_TYPE,
  LIST_TYPE,
  listElements,
  STRUCT_TYPE,
  structFields,
  type RawField,
} from '../parquet/thrift-compact.ts';

const MAGIC = Uint8Array.from([0x50, 0x41, 0x52, 0x31]);

/** A generated file's metadata (without its length and magic): the template of every synthetic footer. */
export async function templateMetadata(): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), 'sim-template-'));
  try {
    const path = join(dir, 't.parquet');
    await writeTracksParquet(path, { rows: 4096 });
    const bytes = new Uint8Array(await readFile(path));
    const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(bytes.length - 8, true);
    return bytes.slice(bytes.length - 8 - len, bytes.length - 8);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const i64 = (id: number, n: number): RawField => ({ id, type: I64_TYPE, value: encodeI64(Math.round(n)) });

/** A file of `rowGroupRows` rows per row group at `bytesPerRow`: its size and its footer (metadata, length, PAR1). */
export function syntheticInput(
  template: Uint8Array,
  rowGroupRows: readonly number[],
  bytesPerRow: number,
): { size: number; tail: Uint8Array } {
  const top = structFields(template);
  const groupsField = top.find((f) => f.id === 4)!;
  const rg0 = structFields(listElements(groupsField.value)[0]!);
  const chunks = listElements(rg0.find((f) => f.id === 1)!.value).map((c) => structFields(c));
  const metaOf = (c: RawField[]) => structFields(c.find((f) => f.id === 3)!.value);
  const sizeOf = (m: RawField[]) => readVarintI64(m.find((f) => f.id === 7)!.value);
  const templateSizes = chunks.map((c) => sizeOf(metaOf(c)));
  const templateTotal = templateSizes.reduce((a, b) => a + b, 0);

  let offset = 4;
  const groups = rowGroupRows.map((rows) => {
    const start = offset;
    const columns = chunks.map((c, i) => {
      const size = Math.max(64, (rows * bytesPerRow * templateSizes[i]!) / templateTotal);
      const at = offset;
      offset += Math.round(size);
      const meta = metaOf(c)
        .filter((f) => f.id < 10 || f.id === 11)
        .map((f) => {
          if (f.id === 5) return i64(5, rows);
          if (f.id === 6 || f.id === 7) return i64(f.id, size);
          if (f.id === 9) return i64(9, f.id === 9 && metaOf(c).some((g) => g.id === 11) ? at + 64 : at);
          if (f.id === 11) return i64(11, at);
          return f;
        });
      const chunk = c.filter((f) => f.id <= 3).map((f) => (f.id === 2 ? i64(2, at) : f.id === 3 ? { ...f, value: encodeStruct(meta) } : f));
      return encodeStruct(chunk);
    });
    return encodeStruct(
      rg0
        .filter((f) => f.id <= 6)
        .map((f) => {
          if (f.id === 1) return { ...f, value: encodeList(STRUCT_TYPE, columns) };
          if (f.id === 2 || f.id === 6) return i64(f.id, offset - start);
          if (f.id === 3) return i64(3, rows);
          if (f.id === 5) return i64(5, start);
          return f;
        }),
    );
  });
  const total = rowGroupRows.reduce((a, b) => a + b, 0);
  const meta = encodeStruct(
    top.map((f) => (f.id === 3 ? i64(3, total) : f.id === 4 ? { id: 4, type: LIST_TYPE, value: encodeList(STRUCT_TYPE, groups) } : f)),
  );
  const tail = new Uint8Array(meta.length + 8);
  tail.set(meta);
  new DataView(tail.buffer).setUint32(meta.length, meta.length, true);
  tail.set(MAGIC, meta.length + 4);
  return { size: offset + tail.length, tail };
}

/** A zigzag varint i64 value (non-negative). */
function readVarintI64(b: Uint8Array): number {
  let n = 0;
  let mul = 1;
  for (const byte of b) {
    n += (byte & 0x7f) * mul;
    mul *= 128;
    if (byte < 0x80) break;
  }
  return n / 2;
}
