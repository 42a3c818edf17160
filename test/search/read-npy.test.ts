/** The vectors read through ranged reads (any size: no whole-file buffer) give what a whole-file parse gives, refusals included. */
import { describe, expect, it } from 'vitest';
import { npyHeader } from '../../lib/outputs/npy.ts';
import { parseNpy, readNpy } from '../../lib/search/embeddings.ts';

function npy(rows: number, cols: number): Uint8Array {
  const header = npyHeader(rows, cols);
  const data = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i) * 1e3);
  const out = new Uint8Array(header.length + data.byteLength);
  out.set(header);
  out.set(new Uint8Array(data.buffer), header.length);
  return out;
}

function source(bytes: Uint8Array) {
  const reads: [number, number][] = [];
  return {
    reads,
    name: 'v.npy',
    size: bytes.length,
    read: async (offset: number, length: number) => {
      reads.push([offset, length]);
      return bytes.slice(offset, offset + length);
    },
  };
}

describe('readNpy', () => {
  it('reads the matrix a whole-file parse gives, never asking for the whole file at once past its chunk', async () => {
    const bytes = npy(3_000, 14);
    const s = source(bytes);
    const got = await readNpy(s, 'v.npy');
    const want = parseNpy(bytes, 'v.npy');
    expect([got.rows, got.cols]).toEqual([want.rows, want.cols]);
    expect(Buffer.from(got.data.buffer).equals(Buffer.from(want.data.buffer, want.data.byteOffset, want.data.byteLength))).toBe(true);
    expect(s.reads.every(([o, n]) => o + n <= bytes.length)).toBe(true);
  });

  it.each([
    ['empty', new Uint8Array(0)],
    ['not an .npy', new TextEncoder().encode('{"a": 1}')],
    ['truncated in its data', npy(10, 14).subarray(0, 300)],
    ['truncated in its header', npy(10, 14).subarray(0, 40)],
    ['longer than its shape', new Uint8Array([...npy(2, 14), 1, 2, 3, 4])],
  ])('refuses a file %s with the message a whole-file parse gives', async (_, bytes) => {
    let whole = '';
    try {
      parseNpy(bytes, 'v.npy');
    } catch (e: unknown) {
      whole = (e as Error).message;
    }
    expect(whole).toMatch(/^v\.npy: /);
    await expect(readNpy(source(bytes), 'v.npy')).rejects.toThrow(whole);
  });
});
