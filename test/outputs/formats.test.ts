import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { npyHeader } from '../../lib/outputs/npy.ts';
import { ByteWriter } from '../../lib/io/byte-writer.ts';
import { hashIds, mappingJson, writeMappingFragment } from '../../lib/outputs/mapping.ts';
import type { IdColumn } from '../../lib/embedding/columns.ts';
import { chunkBytes, sortedArraysRepeat, sortedSourcesRepeat } from '../../lib/outputs/repeated-ids.ts';
import { fixture } from '../helpers/tmp.ts';

const encoder = new TextEncoder();

/** An IdColumn from JS strings, as Arrow would hold them. */
function idColumn(ids: readonly string[]): IdColumn {
  const parts = ids.map((s) => encoder.encode(s));
  const offsets = new Int32Array(ids.length + 1);
  parts.forEach((p, i) => (offsets[i + 1] = offsets[i]! + p.length));
  const data = new Uint8Array(offsets[ids.length]!);
  parts.forEach((p, i) => data.set(p, offsets[i]!));
  return { offsets, data };
}

describe('.npy header', () => {
  it.each(readdirSync(fixture('npy')).map((f) => [f]))('matches numpy’s bytes for %s', (file) => {
    const want = readFileSync(fixture('npy', file));
    const shape = /(\d+)x(\d+)/.exec(file)!;
    const header = npyHeader(Number(shape[1]), Number(shape[2]));
    expect(header.length % 64).toBe(0);
    expect(Buffer.from(header).equals(want.subarray(0, header.length))).toBe(true);
    if (file.endsWith('.bin')) expect(header.length).toBe(want.length);
    else expect(want.length).toBe(header.length + Number(shape[1]) * Number(shape[2]) * 4);
  });
});

describe('id → row mapping', () => {
  const ids = JSON.parse(readFileSync(fixture('mapping', 'ids.json'), 'utf8')) as string[];
  const expected = readFileSync(fixture('mapping', 'expected.json'));

  it('is byte-identical to Python’s json.dump for non-ASCII, escapes, quotes, backslashes and repeated ids', () => {
    expect(new Set(ids).size).toBeLessThan(ids.length);
    expect(Buffer.from(mappingJson([idColumn(ids)])).toString('latin1')).toBe(expected.toString('latin1'));
  });

  it('is the same when the ids arrive in several columns', () => {
    const cols = [idColumn(ids.slice(0, 3)), idColumn(ids.slice(3, 10)), idColumn(ids.slice(10))];
    expect(Buffer.from(mappingJson(cols)).equals(expected)).toBe(true);
  });

  it('as fragments joined by ", " inside braces equals the whole mapping when no id repeats', () => {
    const unique = [...new Set(ids)];
    const whole = Buffer.from(mappingJson([idColumn(unique)]));
    const w = new ByteWriter(4);
    w.ascii('{');
    writeMappingFragment(w, idColumn(unique.slice(0, 5)), 0, false);
    w.ascii(', ');
    writeMappingFragment(w, idColumn(unique.slice(5, 6)), 5, false);
    writeMappingFragment(w, idColumn(unique.slice(6)), 6, true);
    w.ascii('}');
    expect(Buffer.from(w.bytes()).toString('latin1')).toBe(whole.toString('latin1'));
  });

  it.each([
    [0, 12],
    [95, 10],
    [9_990, 20],
    [999_999, 1],
    [2 ** 31 - 3, 6],
    [2 ** 53 - 10, 9],
  ])('writes plain ids from index %i (%i rows) as JSON.stringify of the same entries would', (first, n) => {
    const plain = Array.from({ length: n }, (_, i) => `id${i}~ok ${'x'.repeat(i % 3)}`);
    for (const leading of [false, true]) {
      const w = new ByteWriter(4);
      writeMappingFragment(w, idColumn(plain), first, leading);
      const want = plain.map((id, i) => `${JSON.stringify(id)}: ${first + i}`).join(', ');
      expect(Buffer.from(w.bytes()).toString('latin1')).toBe((leading ? ', ' : '') + want);
    }
  });

  // The plain-ASCII fast path checks 4 bytes at once: every byte at every place in a word.
  it('escapes every ASCII byte that needs it wherever it falls in an id, as Python does', () => {
    const pythonKey = (s: string) =>
      JSON.stringify(s)
        // ensure_ascii: DEL and every non-ASCII char as \\uXXXX (JSON.stringify leaves them be).
        .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    const ids: string[] = [];
    for (let b = 0; b < 0x80; b++)
      for (let at = 0; at < 9; at++) ids.push('abcdefgh'.slice(0, at) + String.fromCharCode(b) + 'ijklmnop'.slice(at));
    for (let at = 0; at < 9; at++) ids.push('abcdefgh'.slice(0, at) + 'é' + 'ijklmnop'.slice(at));
    const w = new ByteWriter(4);
    writeMappingFragment(w, idColumn(ids), 0, false);
    const want = ids.map((id, i) => `${pythonKey(id)}: ${i}`).join(', ');
    expect(Buffer.from(w.bytes()).toString('latin1')).toBe(want);
  });

  it('hashes equal ids equally, so repeats across fragments are found', async () => {
    const a = hashIds(idColumn(['x', 'y', 'zz'])).sort();
    const b = hashIds(idColumn(['q', 'zz'])).sort();
    expect(hashIds(idColumn(['zz']))[0]).toBe(hashIds(idColumn(['q', 'zz']))[1]);
    expect(await sortedArraysRepeat([a, b])).toBe(true);
    expect(await sortedArraysRepeat([a, hashIds(idColumn(['q', 'r'])).sort()])).toBe(false);
  });

  it('keeps 100,000 random 22-character ids free of hash collisions', async () => {
    const b62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    let seed = 42;
    const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % 62;
    const ids = Array.from({ length: 100_000 }, () => Array.from({ length: 22 }, () => b62[next()]).join(''));
    expect(new Set(ids).size).toBe(ids.length);
    const hashes = hashIds(idColumn(ids));
    expect(new Set(hashes).size).toBe(ids.length);
    expect(await sortedArraysRepeat([hashes.sort()])).toBe(false);
  });
});

describe('repeated ids across sorted hash shards (the reducer’s streaming check)', () => {
  const source = (values: bigint[]) => {
    const bytes = new Uint8Array(new BigUint64Array([...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).buffer);
    return { name: 'mem', size: bytes.length, read: async (o: number, n: number) => bytes.slice(o, o + n) };
  };

  it.each([
    {
      name: 'no repeat',
      shards: [
        [1n, 5n, 9n],
        [2n, 6n],
        [3n, 2n ** 63n + 7n],
      ],
      repeated: false,
    },
    {
      name: 'a repeat across shards',
      shards: [
        [1n, 5n, 9n],
        [2n, 9n],
      ],
      repeated: true,
    },
    { name: 'a repeat inside a shard', shards: [[4n, 4n], [1n]], repeated: true },
    { name: 'equal low words, different high words', shards: [[2n ** 32n + 1n], [1n]], repeated: false },
    { name: 'empty shards', shards: [[], [7n], []], repeated: false },
  ])('$name', async ({ shards, repeated }) => {
    expect(await sortedSourcesRepeat(shards.map(source))).toBe(repeated);
  });

  it('agrees with the in-memory check over many chunks', async () => {
    const ids = Array.from({ length: 30_000 }, (_, i) => `track-${i}`);
    const withRepeat = [...ids.slice(0, 20_000), 'track-12345', ...ids.slice(20_000)];
    for (const list of [ids, withRepeat]) {
      const parts = [list.slice(0, 9_000), list.slice(9_000, 25_000), list.slice(25_000)].map((p) => hashIds(idColumn(p)).sort());
      const sources = parts.map((h) => ({
        name: 'mem',
        size: h.byteLength,
        read: async (o: number, n: number) => new Uint8Array(h.buffer.slice(o, o + n)),
      }));
      const distinct = new Set(parts.flatMap((h) => Array.from(h))).size;
      // The smallest budget: 64 KiB reads, so each shard takes several.
      expect(await sortedSourcesRepeat(sources, 0)).toBe(distinct < list.length);
    }
  });

  it('keeps the next chunk of every shard in flight, within the memory budget', async () => {
    const shards = Array.from({ length: 4 }, (_, s) => BigUint64Array.from({ length: 40_000 }, (_, i) => BigInt(i * 4 + s)));
    let inFlight = 0;
    let most = 0;
    // Reads past each shard's first chunk: without prefetching they would come one at a time,
    // each awaited by the merge when its shard runs dry.
    let laterInFlight = 0;
    let mostLater = 0;
    const reads: number[] = [];
    const sources = shards.map((h) => ({
      name: 'mem',
      size: h.byteLength,
      read: async (o: number, n: number) => {
        reads.push(n);
        most = Math.max(most, ++inFlight);
        if (o > 0) mostLater = Math.max(mostLater, ++laterInFlight);
        await new Promise((r) => setImmediate(r));
        inFlight--;
        if (o > 0) laterInFlight--;
        return new Uint8Array(h.buffer.slice(o, o + n));
      },
    }));
    expect(await sortedSourcesRepeat(sources, 4 * 2 * 128 * 1024)).toBe(false);
    expect(Math.max(...reads)).toBe(128 * 1024);
    expect(reads.reduce((a, b) => a + b, 0)).toBe(4 * 40_000 * 8);
    expect(most).toBeGreaterThanOrEqual(4);
    expect(mostLater).toBeGreaterThanOrEqual(2);
  });

  it('sizes its reads from the budget and the shard count', () => {
    expect(chunkBytes(100, 128 * 1024 * 1024)).toBe(671_088);
    expect(chunkBytes(10_000, 128 * 1024 * 1024)).toBe(64 * 1024);
    expect(chunkBytes(1, 128 * 1024 * 1024)).toBe(8 * 1024 * 1024);
  });
});
