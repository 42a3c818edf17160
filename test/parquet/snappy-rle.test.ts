import { describe, expect, it } from 'vitest';
import { snappyDecompress, SnappyError } from '../../lib/parquet/snappy.ts';
import { decodeDefinitions, decodeHybrid, PageDecodeError } from '../../lib/parquet/rle-hybrid.ts';

const bytes = (...xs: (number | string)[]) => Uint8Array.from(xs.flatMap((x) => (typeof x === 'string' ? [...Buffer.from(x)] : [x])));
const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');

describe('snappy blocks', () => {
  it.each([
    ['a literal', bytes(4, 0x0c, 'abcd'), 'abcd'],
    // "ab", then a 1-byte-offset copy of 8 from 2 back: it overlaps what it writes.
    ['an overlapping copy', bytes(10, 0x04, 'ab', 0x11, 2), 'ababababab'],
    // a 2-byte-offset copy of 40 bytes from 40 back.
    [
      'a 2-byte-offset copy',
      bytes(80, 0xf0, 39, '0123456789012345678901234567890123456789', ((40 - 1) << 2) | 2, 40, 0),
      '0123456789'.repeat(8),
    ],
    ['a 4-byte-offset copy', bytes(8, 0x0c, 'wxyz', ((4 - 1) << 2) | 3, 4, 0, 0, 0), 'wxyzwxyz'],
    ['a literal of 100 bytes (1-byte length)', bytes(100, 0xf0, 99, 'q'.repeat(100)), 'q'.repeat(100)],
    ['a literal of 300 bytes (2-byte length)', bytes(0xac, 0x02, 0xf4, 299 & 0xff, 299 >> 8, 'r'.repeat(300)), 'r'.repeat(300)],
    ['an empty block', bytes(0), ''],
  ])('%s', (_, block, expected) => {
    expect(text(snappyDecompress(block))).toBe(expected);
    expect(text(snappyDecompress(block, expected.length, new Uint8Array(1000)))).toBe(expected);
  });

  it.each([
    ['a copy before the start', bytes(6, 0x04, 'ab', 0x01, 3)],
    ['a copy of offset 0', bytes(6, 0x04, 'ab', 0x01, 0)],
    ['a literal past the input', bytes(4, 0x0c, 'ab')],
    ['more bytes than the preamble says', bytes(2, 0x0c, 'abcd')],
    ['fewer bytes than the preamble says', bytes(9, 0x0c, 'abcd')],
    ['a truncated copy', bytes(6, 0x04, 'ab', 0x02, 1)],
    ['no preamble', bytes()],
  ])('refuses %s', (_, block) => {
    expect(() => snappyDecompress(block)).toThrow(SnappyError);
  });

  it('refuses a block of another length than expected', () => {
    expect(() => snappyDecompress(bytes(4, 0x0c, 'abcd'), 5)).toThrow(SnappyError);
  });

  // The fast paths (16 bytes moved at once) against a byte-by-byte decoder of the format, on
  // random blocks of short literals and copies (overlapping, at every offset), and on damaged ones.
  it('gives what a byte-by-byte decoder gives, on random blocks and on damaged ones', () => {
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let round = 0; round < 300; round++) {
      const block = randomBlock(rand, rand(4000));
      const expected = referenceDecode(block);
      expect(expected).not.toBeNull();
      expect(text(snappyDecompress(block))).toBe(text(expected!));
      expect(text(snappyDecompress(block, expected!.length, new Uint8Array(expected!.length + rand(40))))).toBe(text(expected!));
      const damaged = block.slice(0, block.length - rand(3));
      for (let k = rand(4); k > 0; k--) damaged[1 + rand(damaged.length - 1)] = rand(256);
      const want = referenceDecode(damaged);
      if (want === null) expect(() => snappyDecompress(damaged)).toThrow(SnappyError);
      else expect(text(snappyDecompress(damaged))).toBe(text(want));
    }
  });
});

/** A valid block of random literals (1–70 bytes) and copies (1–64 bytes, offsets 1–40, any of the three copy tags) of about `target` bytes. */
function randomBlock(rand: (n: number) => number, target: number): Uint8Array {
  const tags: number[] = [];
  let at = 0;
  while (at < target) {
    if (at === 0 || rand(3) === 0) {
      const len = 1 + rand(rand(4) === 0 ? 70 : 16);
      if (len <= 60) tags.push((len - 1) << 2);
      else tags.push(60 << 2, len - 1);
      for (let i = 0; i < len; i++) tags.push(rand(256));
      at += len;
      continue;
    }
    const offset = 1 + rand(Math.min(at, 40));
    const kind = rand(3);
    if (kind === 0) {
      const len = 4 + rand(8);
      tags.push(((offset >> 8) << 5) | ((len - 4) << 2) | 1, offset & 0xff);
      at += len;
    } else {
      const len = 1 + rand(64);
      tags.push(((len - 1) << 2) | (kind === 1 ? 2 : 3), offset & 0xff, offset >> 8);
      if (kind === 2) tags.push(0, 0);
      at += len;
    }
  }
  const preamble: number[] = [];
  for (let n = at; ; n >>>= 7) {
    if (n < 0x80) {
      preamble.push(n);
      break;
    }
    preamble.push((n & 0x7f) | 0x80);
  }
  return Uint8Array.from([...preamble, ...tags]);
}

/** Snappy's format, decoded one byte at a time; null where the block is malformed. */
function referenceDecode(block: Uint8Array): Uint8Array | null {
  let pos = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= block.length || shift > 28) return null;
    const b = block[pos++]!;
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  const out: number[] = [];
  const byte = () => (pos < block.length ? block[pos++]! : -1);
  while (pos < block.length) {
    const tag = byte();
    let len: number;
    if ((tag & 3) === 0) {
      len = (tag >> 2) + 1;
      if (len > 60) {
        let v = 0;
        for (let i = 0; i < len - 60; i++) {
          const b = byte();
          if (b < 0) return null;
          v += b * 2 ** (8 * i);
        }
        len = v + 1;
      }
      if (pos + len > block.length || out.length + len > length) return null;
      for (let i = 0; i < len; i++) out.push(block[pos++]!);
      continue;
    }
    const extra = [0, 1, 2, 4][tag & 3]!;
    if (pos + extra > block.length) return null;
    let offset = 0;
    for (let i = 0; i < extra; i++) offset += block[pos++]! * 2 ** (8 * i);
    if ((tag & 3) === 1) {
      len = ((tag >> 2) & 7) + 4;
      offset += (tag >> 5) << 8;
    } else len = (tag >> 2) + 1;
    if (offset === 0 || offset > out.length || out.length + len > length) return null;
    for (let i = 0; i < len; i++) out.push(out[out.length - offset]!);
  }
  return out.length === length ? Uint8Array.from(out) : null;
}

/** `values` bit-packed `width` bits each, LSB first, as one bit-packed run (with its header). */
function bitPacked(values: readonly number[], width: number): number[] {
  const groups = Math.ceil(values.length / 8);
  const out = new Uint8Array(groups * width);
  let bit = 0;
  for (const v of [...values, ...new Array<number>(groups * 8 - values.length).fill(0)]) {
    for (let b = 0; b < width; b++, bit++) if (Math.floor(v / 2 ** b) % 2) out[bit >> 3]! |= 1 << (bit & 7);
  }
  return [(groups << 1) | 1, ...out];
}

describe('the RLE / bit-packed hybrid', () => {
  it.each([1, 3, 8, 13, 20, 24, 25, 27, 32])('bit-packed values of %i bits, then a run', (width) => {
    const max = 2 ** width - 1;
    const values = Array.from({ length: 21 }, (_, i) => Math.floor((max * ((i * 7) % 21)) / 20));
    const runValue = max;
    const runBytes = Array.from({ length: (width + 7) >> 3 }, (_, k) => Math.floor(runValue / 2 ** (8 * k)) % 256);
    const encoded = Uint8Array.from([...bitPacked(values, width), 5 << 1, ...runBytes]);
    // The bit-packed run holds 24 values (3 groups): the 3 padding values are read too, as zeros.
    const out = new Int32Array(29);
    decodeHybrid(encoded, 0, encoded.length, width, 29, out);
    const expected = [...values, 0, 0, 0, ...new Array<number>(5).fill(runValue)].map((v) => v | 0);
    expect([...out]).toEqual(expected);
  });

  it('refuses truncated runs', () => {
    const encoded = Uint8Array.from(bitPacked([1, 2, 3, 4, 5, 6, 7, 0], 3));
    expect(() => decodeHybrid(encoded, 0, encoded.length - 1, 3, 8, new Int32Array(8))).toThrow(PageDecodeError);
    expect(() => decodeHybrid(Uint8Array.from([4 << 1]), 0, 1, 3, 4, new Int32Array(4))).toThrow(PageDecodeError);
    expect(() => decodeHybrid(Uint8Array.from([]), 0, 0, 3, 1, new Int32Array(1))).toThrow(PageDecodeError);
  });

  it('definition levels: counts the values present, and stores levels only when some are null', () => {
    const levels = new Uint8Array(10).fill(9);
    expect(decodeDefinitions(Uint8Array.from([10 << 1, 1]), 0, 2, 10, levels)).toBe(10);
    expect([...levels]).toEqual(new Array(10).fill(9));
    const mixed = Uint8Array.from([...bitPacked([1, 0, 1, 1, 0, 1, 1, 1], 1), 2 << 1, 0]);
    expect(decodeDefinitions(mixed, 0, mixed.length, 10, levels)).toBe(6);
    expect([...levels]).toEqual([1, 0, 1, 1, 0, 1, 1, 1, 0, 0]);
  });
});
