import { describe, expect, it } from 'vitest';
import { Rng } from '../../lib/generate/random.ts';
import { PipelineError } from '../../lib/errors.ts';
import { MAX_PARTS, MIN_PART_SIZE, planParts, type PlannedPart } from '../../lib/aws/multipart-plan.ts';
import type { StitchSegment } from '../../lib/pipeline/object-store.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

const lit = (s: string): StitchSegment => ({ bytes: new TextEncoder().encode(s) });
const obj = (key: string, size: number): StitchSegment => ({ key, size });
const header = { bytes: new Uint8Array(128) };
const shape = (plan: PlannedPart[]) => plan.map((p) => (p.kind === 'copy' ? `copy ${p.key} ${p.start}-${p.end}` : `upload ${p.size}`));

/** Flattens a plan back into (source, start, end) runs, merging adjacent ones, to compare with the segments. */
function coverage(plan: PlannedPart[]): string[] {
  const runs: { src: string; start: number; end: number }[] = [];
  const add = (src: string, start: number, end: number) => {
    const last = runs[runs.length - 1];
    if (last && last.src === src && last.end === start) last.end = end;
    else runs.push({ src, start, end });
  };
  // A literal split across parts is several views of one buffer: name it by its buffer.
  const literals = new Map<ArrayBufferLike, number>();
  for (const p of plan) {
    if (p.kind === 'copy') add(p.key, p.start, p.end);
    else
      for (const piece of p.pieces) {
        if (!('bytes' in piece)) add(piece.key, piece.start, piece.end);
        else {
          const { buffer, byteOffset, byteLength } = piece.bytes;
          if (!literals.has(buffer)) literals.set(buffer, literals.size);
          add(`literal ${literals.get(buffer)}`, byteOffset, byteOffset + byteLength);
        }
      }
  }
  return runs.map((r) => `${r.src.startsWith('literal') ? 'literal' : r.src} ${r.start}-${r.end}`);
}

describe('planParts', () => {
  const M5 = MIN_PART_SIZE;
  it.each<[string, StitchSegment[], string[]]>([
    ['header + one big object', [header, obj('a', 20 * MiB)], [`upload ${M5}`, `copy a ${M5 - 128}-${20 * MiB}`]],
    [
      'many small objects',
      Array.from({ length: 20 }, (_, i) => obj(`s${i}`, MiB)),
      [`upload ${8 * MiB}`, `upload ${8 * MiB}`, `upload ${4 * MiB}`],
    ],
    [
      'a mix: header, big, literal, small, big',
      [header, obj('a', 6 * MiB), lit(','), obj('b', 100 * KiB), obj('c', 12 * MiB)],
      // 'a' could not leave 5 MiB to copy after topping up the header, so it streams along with
      // the literal and 'b'; that part is then big enough to close, and 'c' is copied whole.
      [`upload ${6 * MiB + 128 + 1 + 100 * KiB}`, `copy c 0-${12 * MiB}`],
    ],
    [
      // Found by the reduce benchmark: a buffer past 5 MiB must not be "topped up" by a negative amount.
      'small objects that fill a buffer past 5 MiB, then one below 5 MiB',
      [obj('a', 3.5 * MiB), obj('b', 3.5 * MiB), obj('c', 4.5 * MiB)],
      [`upload ${8 * MiB}`, `upload ${3.5 * MiB}`],
    ],
    ['a literal at the end', [obj('a', 6 * MiB), lit('}')], [`copy a 0-${6 * MiB}`, 'upload 1']],
    ['a total below 5 MiB', [header, obj('a', MiB), lit('}')], [`upload ${MiB + 129}`]],
    ['nothing', [], []],
    [
      'an object too big for one copy part',
      [obj('huge', 10 * GiB + MiB)],
      [`copy huge 0-${5 * GiB}`, `copy huge ${5 * GiB}-${10 * GiB - 4 * MiB}`, `copy huge ${10 * GiB - 4 * MiB}-${10 * GiB + MiB}`],
    ],
  ])('%s', (_what, segments, expected) => {
    const plan = planParts(segments, 8 * MiB);
    expect(shape(plan)).toEqual(expected);
    plan.slice(0, -1).forEach((p) => expect(p.kind === 'copy' ? p.end - p.start : p.size).toBeGreaterThanOrEqual(M5));
    const expectedCoverage = segments
      .filter((s) => ('bytes' in s ? s.bytes.byteLength : s.size) > 0)
      .map((s) => ('bytes' in s ? `literal 0-${s.bytes.byteLength}` : `${s.key} 0-${s.size}`));
    expect(coverage(plan)).toEqual(expectedCoverage);
  });

  it('keeps its invariants for 2,000 random mixes of objects and literals', () => {
    const rng = new Rng(12345);
    const rand = (n: number) => rng.uint32() % n;
    const sizes = [0, 1, 129, MiB, 3.5 * MiB, M5 - 1, M5, M5 + 1, 7 * MiB, 8 * MiB, 9 * MiB, 13 * MiB];
    for (let trial = 0; trial < 2000; trial++) {
      const segments: StitchSegment[] = Array.from({ length: 1 + rand(12) }, (_, i) =>
        rand(4) === 0 ? lit('x'.repeat(rand(200))) : obj(`o${i}`, sizes[rand(sizes.length)]!),
      );
      const partSize = [M5, 8 * MiB, 16 * MiB][rand(3)]!;
      const plan = planParts(segments, partSize);
      for (const [i, p] of plan.entries()) {
        const size = p.kind === 'copy' ? p.end - p.start : p.size;
        if (i < plan.length - 1) expect(size).toBeGreaterThanOrEqual(M5);
        if (p.kind === 'upload') {
          expect(size).toBeLessThanOrEqual(partSize);
          for (const piece of p.pieces) expect('bytes' in piece ? piece.bytes.byteLength : piece.end - piece.start).toBeGreaterThan(0);
          expect(p.pieces.reduce((n, q) => n + ('bytes' in q ? q.bytes.byteLength : q.end - q.start), 0)).toBe(size);
        }
      }
      const expected = segments
        .filter((s) => ('bytes' in s ? s.bytes.byteLength : s.size) > 0)
        .map((s) => ('bytes' in s ? `literal 0-${s.bytes.byteLength}` : `${s.key} 0-${s.size}`));
      expect(coverage(plan)).toEqual(expected);
    }
  });

  it('refuses more than 10,000 parts and says which partSize would do', () => {
    const fits = Array.from({ length: MAX_PARTS }, (_, i) => obj(`s${i}`, 6 * MiB));
    expect(planParts(fits, 8 * MiB)).toHaveLength(MAX_PARTS);
    const tooMany = [...fits, obj('one-more', 6 * MiB)];
    expect(() => planParts(tooMany, 8 * MiB)).toThrow(PipelineError);
    expect(() => planParts(tooMany, 8 * MiB)).toThrow(/more than S3's 10000 parts .* use a partSize of about \d+/);
  });

  it('refuses a partSize below the S3 minimum', () => {
    expect(() => planParts([obj('a', MiB)], MiB)).toThrow(RangeError);
  });
});
