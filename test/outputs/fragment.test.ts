import { describe, expect, it } from 'vitest';
import { eachFragmentEntry } from '../../lib/outputs/fragment.ts';
import type { ByteSource } from '../../lib/io/byte-source.ts';

const text = new TextEncoder();
const ids = ['a', 'with \\"quote\\"', 'ümlaut', 'x'.repeat(40), 'b, c', 'd\\": 9'];
const fragment = text.encode(ids.map((id, i) => `"${id}": ${i * 1000}`).join(', '));

/** A source over `bytes` that records its reads and may fail the n-th (0-based). */
function sourceOf(bytes: Uint8Array, failAt = -1) {
  const log: string[] = [];
  let reads = 0;
  const source: ByteSource = {
    name: 'fragment-0',
    size: bytes.length,
    read(offset, length) {
      const n = reads++;
      log.push(`read ${offset}`);
      if (n === failAt) return Promise.reject(new Error(`read ${n} failed`));
      return Promise.resolve(bytes.slice(offset, offset + length));
    },
  };
  return { source, log };
}

const parsed = async (source: ByteSource, chunk: number, log: string[] = []) => {
  const out: [string, number][] = [];
  await eachFragmentEntry(source, chunk, (key, index) => {
    log.push(`entry ${index}`);
    out.push([new TextDecoder().decode(key), index]);
  });
  return out;
};

describe('eachFragmentEntry', () => {
  it.each([1, 3, 7, 16, 1 << 20])('gives every entry once, in order, however the %i-byte chunks cut them', async (chunk) => {
    const out = await parsed(sourceOf(fragment).source, chunk);
    expect(out).toEqual(ids.map((id, i) => [`"${id}"`, i * 1000]));
  });

  it('reads the next chunk before it parses this one, and no further ahead', async () => {
    const { source, log } = sourceOf(fragment);
    await parsed(source, 32, log);
    // The second chunk is asked for before the first chunk's entries are given, the third not before them.
    expect(log.slice(0, 3)).toEqual(['read 0', 'read 32', 'entry 0']);
    expect(log.indexOf('read 64')).toBeGreaterThan(log.indexOf('entry 0'));
    expect(log.filter((l) => l.startsWith('read'))).toHaveLength(Math.ceil(fragment.length / 32));
  });

  it('rejects with a later read’s failure', async () => {
    await expect(parsed(sourceOf(fragment, 2).source, 16)).rejects.toThrow('read 2 failed');
  });

  it('reports a damaged chunk, not the read that was under way meanwhile', async () => {
    const damaged = fragment.slice();
    damaged[0] = 0x41; // 'A' where the first quote is
    await expect(parsed(sourceOf(damaged, 1).source, 16)).rejects.toThrow(/expected '"' at byte 0/);
  });

  it('parses an empty fragment as no entries, without a read', async () => {
    const { source, log } = sourceOf(new Uint8Array(0));
    expect(await parsed(source, 8, log)).toEqual([]);
    expect(log).toEqual([]);
  });
});
