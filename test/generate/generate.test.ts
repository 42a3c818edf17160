import { existsSync, openAsBlob, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import type { Table } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { batchRanges, readRowGroupRows, writeTracksParquet } from '../../lib/generate/write-parquet.ts';
import { Rng } from '../../lib/generate/random.ts';
import { generateTracks, generateTracksBlock } from '../../lib/generate/tracks.ts';
import { sliceTracks, TRACK_COLUMNS, tracksToTable, utf8At } from '../../lib/generate/schema.ts';

const ROWS = 5_000;
const ROW_GROUP = 1_500;

const EXPECTED_SCHEMA = [
  ['valence', 'Float64'],
  ['year', 'Int64'],
  ['acousticness', 'Float64'],
  ['artists', 'Utf8'],
  ['danceability', 'Float64'],
  ['duration_ms', 'Int64'],
  ['energy', 'Float64'],
  ['explicit', 'Int64'],
  ['id', 'Utf8'],
  ['instrumentalness', 'Float64'],
  ['key', 'Int64'],
  ['liveness', 'Float64'],
  ['loudness', 'Float64'],
  ['mode', 'Int64'],
  ['name', 'Utf8'],
  ['popularity', 'Int64'],
  ['release_date', 'Utf8'],
  ['speechiness', 'Float64'],
  ['tempo', 'Float64'],
];

async function readParquet(path: string): Promise<Table> {
  const file = await pw.ParquetFile.fromFile(await openAsBlob(path));
  try {
    return tableFromIPC((await file.read()).intoIPCStream());
  } finally {
    file.free();
  }
}

function numbers(table: Table, name: string): number[] {
  const col = table.getChild(name);
  if (col === null) throw new Error(`no column ${name}`);
  return Array.from(col.toArray() as ArrayLike<number | bigint>, (v) => Number(v));
}

function strings(table: Table, name: string): string[] {
  const col = table.getChild(name);
  if (col === null) throw new Error(`no column ${name}`);
  return [...col] as string[];
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function sd(xs: readonly number[]): number {
  const m = mean(xs);
  return Math.sqrt(mean(xs.map((x) => (x - m) ** 2)));
}

function min(xs: readonly number[]): number {
  return xs.reduce((a, b) => (b < a ? b : a), Infinity);
}

function max(xs: readonly number[]): number {
  return xs.reduce((a, b) => (b > a ? b : a), -Infinity);
}

function pearson(xs: readonly number[], ys: readonly number[]): number {
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0,
    sxx = 0,
    syy = 0;
  for (let i = 0; i < xs.length; i++) {
    const dx = xs[i]! - mx,
      dy = ys[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}

let dir: string;
let fileA: string;
let table: Table;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'generate-test-'));
  fileA = join(dir, 'a.parquet');
  await writeTracksParquet(fileA, { rows: ROWS, rowGroupSize: ROW_GROUP });
  table = await readParquet(fileA);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('generated Parquet file', () => {
  it('has the 19 columns of the reference, in order, with the pyarrow types', () => {
    const schema = table.schema.fields.map((f) => [f.name, String(f.type)]);
    expect(schema).toEqual(EXPECTED_SCHEMA);
    expect(table.schema.fields.every((f) => f.nullable)).toBe(true);
    expect(TRACK_COLUMNS.map(([name]) => name)).toEqual(EXPECTED_SCHEMA.map(([name]) => name));
  });

  it('has the requested rows in row groups of the requested size', async () => {
    expect(table.numRows).toBe(ROWS);
    expect(await readRowGroupRows(fileA)).toEqual([1500, 1500, 1500, 500]);
  });

  it('is byte-identical for the same seed and differs for another seed', async () => {
    const again = join(dir, 'a-again.parquet');
    const other = join(dir, 'other-seed.parquet');
    await writeTracksParquet(again, { rows: ROWS, rowGroupSize: ROW_GROUP });
    await writeTracksParquet(other, { rows: ROWS, rowGroupSize: ROW_GROUP, seed: 7 });
    expect(readFileSync(again).equals(readFileSync(fileA))).toBe(true);
    const idsA = strings(table, 'id');
    const idsOther = new Set(strings(await readParquet(other), 'id'));
    expect(idsA.filter((id) => idsOther.has(id))).toEqual([]);
  });

  it('keeps values within the reference ranges', () => {
    const within = (name: string, lo: number, hi: number) => {
      const xs = numbers(table, name);
      expect(min(xs), name).toBeGreaterThanOrEqual(lo);
      expect(max(xs), name).toBeLessThanOrEqual(hi);
      return xs;
    };
    within('danceability', 0, 0.988);
    within('loudness', -60, 3.855);
    within('acousticness', 0, 0.996);
    within('speechiness', 0, 0.97);
    for (const name of ['valence', 'energy', 'instrumentalness', 'liveness']) within(name, 0, 1);
    const tempo = within('tempo', 0, 243.5);
    expect(tempo.every((t) => t === 0 || t >= 30)).toBe(true);
    within('duration_ms', 5108, 5403500);
    const popularity = within('popularity', 0, 100);
    expect(popularity.every(Number.isInteger)).toBe(true);
    const key = within('key', 0, 11);
    expect(new Set(key).size).toBe(12);
    for (const name of ['mode', 'explicit']) expect(new Set(numbers(table, name)), name).toEqual(new Set([0, 1]));
    const years = within('year', 1921, 2020);
    expect(years.every(Number.isInteger)).toBe(true);
    // rounding: loudness to 3 decimals, energy to 4
    expect(numbers(table, 'loudness').every((x) => Math.abs(x * 1000 - Math.round(x * 1000)) < 1e-6)).toBe(true);
    expect(numbers(table, 'energy').every((x) => Math.abs(x * 1e4 - Math.round(x * 1e4)) < 1e-6)).toBe(true);
  });

  it('has 22-character base-62 ids, all distinct', () => {
    const ids = strings(table, 'id');
    expect(ids.every((id) => /^[0-9A-Za-z]{22}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('formats names, artists and release dates like the reference', () => {
    expect(strings(table, 'name').every((s) => /^[A-Z][a-z]+( [A-Z][a-z]+){0,3}$/.test(s))).toBe(true);
    const artists = strings(table, 'artists');
    expect(artists.every((s) => /^\['[^']+'(, '[^']+'){0,2}\]$/.test(s))).toBe(true);
    expect(artists.some((s) => s.includes(', '))).toBe(true);
    const years = numbers(table, 'year');
    strings(table, 'release_date').forEach((d, i) => {
      expect(d.slice(0, 4)).toBe(String(years[i]));
      if (d.length === 4) expect(years[i]).toBeLessThan(1960);
      else expect(d).toMatch(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])$/);
    });
  });

  it('has popularity, energy and loudness rising with year, acousticness falling', () => {
    const year = numbers(table, 'year');
    const popularity = numbers(table, 'popularity');
    const byEra = (lo: number, hi: number) => mean(popularity.filter((_, i) => year[i]! >= lo && year[i]! < hi));
    expect(byEra(2000, 2021)).toBeGreaterThan(byEra(1921, 1960) + 20);
    expect(pearson(year, popularity)).toBeGreaterThan(0.7);
    expect(pearson(year, numbers(table, 'energy'))).toBeGreaterThan(0.5);
    expect(pearson(year, numbers(table, 'acousticness'))).toBeLessThan(-0.3);
    expect(pearson(numbers(table, 'energy'), numbers(table, 'loudness'))).toBeGreaterThan(0.6);
  });

  it('matches the in-memory generator: rows depend only on seed and row index', () => {
    const block = generateTracksBlock(1921, 0);
    const ids = strings(table, 'id');
    expect(ids.slice(0, 3)).toEqual([0, 1, 2].map((i) => utf8At(block.columns.id, i)));
    expect(ids[ROWS - 1]).toBe(utf8At(block.columns.id, ROWS - 1));
    expect(numbers(table, 'tempo')).toEqual(Array.from(block.columns.tempo.subarray(0, ROWS)));
  });

  it('leaves no file, not even a temporary one, when writing fails', async () => {
    writeFileSync(join(dir, 'a-file'), '');
    const impossible = join(dir, 'a-file', 'x.parquet');
    await expect(writeTracksParquet(impossible, { rows: 10 })).rejects.toThrow(/ENOTDIR|EEXIST/);
    expect(readdirSync(dir).filter((f) => f.startsWith('.') || f.endsWith('.tmp'))).toEqual([]);
  });

  it('creates the output’s folder when it is missing', async () => {
    const nested = join(dir, 'new', 'folder', 'x.parquet');
    await writeTracksParquet(nested, { rows: 10 });
    expect(existsSync(nested)).toBe(true);
  });
});

describe('tracks generator', () => {
  it('converts a chunk to an Arrow table with the exact types and values', () => {
    const chunk = generateTracks(1_000, new Rng(3));
    const t = tracksToTable(chunk);
    expect(t.schema.fields.map((f) => [f.name, String(f.type)])).toEqual(EXPECTED_SCHEMA);
    expect(t.numRows).toBe(1_000);
    expect(t.getChild('year')?.get(7)).toBe(chunk.columns.year[7]);
    expect(t.getChild('name')?.get(999)).toBe(utf8At(chunk.columns.name, 999));
  });

  it('slices chunks into self-contained pieces', () => {
    const chunk = generateTracks(100, new Rng(5));
    const piece = sliceTracks(chunk, 40, 60);
    expect(piece.rows).toBe(20);
    expect(piece.columns.artists.offsets[0]).toBe(0);
    expect(utf8At(piece.columns.artists, 0)).toBe(utf8At(chunk.columns.artists, 40));
    expect(piece.columns.valence[19]).toBe(chunk.columns.valence[59]);
    expect(() => sliceTracks(chunk, 50, 101)).toThrow(RangeError);
  });

  it('cuts batches at block and row-group boundaries', () => {
    expect([...batchRanges(5_000, 1_500)]).toEqual([
      [0, 1500],
      [1500, 3000],
      [3000, 4500],
      [4500, 5000],
    ]);
    expect([...batchRanges(10, 4, 6)]).toEqual([
      [0, 4],
      [4, 6],
      [6, 8],
      [8, 10],
    ]);
  });
});

describe('random', () => {
  it('is deterministic per seed and stream', () => {
    const draw = (r: Rng) => Array.from({ length: 5 }, () => r.uint32());
    expect(draw(new Rng(1))).toEqual(draw(new Rng(1)));
    expect(draw(new Rng(1))).not.toEqual(draw(new Rng(2)));
    expect(draw(new Rng(1, 0))).not.toEqual(draw(new Rng(1, 1)));
    expect(draw(new Rng(2 ** 40))).not.toEqual(draw(new Rng(0)));
  });

  it('draws from the right distributions', () => {
    const r = new Rng(11);
    const n = 200_000;
    const sample = (f: () => number) => Array.from({ length: n }, f);
    const u = sample(() => r.random());
    expect(min(u)).toBeGreaterThanOrEqual(0);
    expect(max(u)).toBeLessThan(1);
    expect(mean(u)).toBeCloseTo(0.5, 2);
    const ints = sample(() => r.integers(1921, 1950));
    expect(min(ints)).toBe(1921);
    expect(max(ints)).toBe(1949);
    const normal = sample(() => r.normal(3, 2));
    expect(mean(normal)).toBeCloseTo(3, 1);
    expect(sd(normal)).toBeCloseTo(2, 1);
    const bulk = Array.from(r.fillNormal(new Float64Array(n), -1, 0.5));
    expect(mean(bulk)).toBeCloseTo(-1, 2);
    expect(sd(bulk)).toBeCloseTo(0.5, 2);
    expect(mean(sample(() => r.exponential(0.002)))).toBeCloseTo(0.002, 4);
    expect(mean(sample(() => r.lognormal(0, 0.5)))).toBeCloseTo(Math.exp(0.125), 2);
    expect(mean(sample(() => r.gamma(0.6)))).toBeCloseTo(0.6, 2);
    expect(mean(sample(() => r.gamma(5)))).toBeCloseTo(5, 1);
    const beta = sample(() => r.beta(0.6, 4));
    expect(mean(beta)).toBeCloseTo(0.6 / 4.6, 2);
    expect(min(beta)).toBeGreaterThanOrEqual(0);
    expect(max(beta)).toBeLessThanOrEqual(1);
  });
});

describe('track-embeddings generate', () => {
  it('exits with code 2 and one line pointing at the help when --rows is missing', () => {
    const out = join(dir, 'never.parquet');
    const res = runCli(['generate', out]);
    expect(res.code).toBe(2);
    expect(res.lines).toEqual(['error: missing required option --rows N', "see 'track-embeddings generate --help'"]);
    expect(existsSync(out)).toBe(false);
  });

  it.each([
    [['out.parquet', '--rows', 'ten'], "--rows must be an integer of at least 1, got 'ten'"],
    [['out.parquet', '--rows', '0'], "--rows must be an integer of at least 1, got '0'"],
    [
      ['out.parquet', '--rows', '5', '--compression', 'lzo'],
      "--compression must be one of snappy, zstd, gzip, brotli, lz4, none, got 'lzo'",
    ],
    [['out.parquet', '--rows', '5', '--row-group-size', '0'], "--row-group-size must be an integer of at least 1, got '0'"],
    [['out.parquet', '--rows', '5', '--bogus'], "unknown option '--bogus'"],
    [['--rows', '5'], 'missing OUT.parquet'],
    [['a.parquet', 'b.parquet', '--rows', '5'], 'unexpected argument(s): b.parquet'],
  ])('refuses %j with exit 2 and one line', (argv, message) => {
    const res = runCli(['generate', ...argv.map((a) => (a.endsWith('.parquet') ? join(dir, a) : a))]);
    expect(res.code).toBe(2);
    expect(res.lines[0]).toBe(`error: ${message.replace('b.parquet', join(dir, 'b.parquet'))}`);
  });

  it('writes a file and prints a one-line summary', async () => {
    const out = join(dir, 'cli.parquet');
    const res = runCli(['generate', out, '--rows', '70_000', '--row-group-size', '50000', '--seed', '5', '--compression', 'zstd']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^wrote .*cli\.parquet: 70,000 rows, 2 row groups, .* s, peak RSS .*\n$/);
    // 50,000-row groups straddle the generator's 65,536-row blocks
    expect(await readRowGroupRows(out)).toEqual([50_000, 20_000]);
    const file = await pw.ParquetFile.fromFile(await openAsBlob(out));
    const meta = file.metadata();
    expect(meta.fileMetadata().createdBy()).toBe('track-embeddings generate');
    expect(meta.rowGroup(0).column(0).compression()).toBe(pw.Compression.ZSTD);
    file.free();
  });
});
