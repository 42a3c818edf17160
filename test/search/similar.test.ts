import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runLocal } from '../../lib/local/runner.ts';
import { DEFAULT_SPEC } from '../../lib/embedding/spec.ts';
import { loadEmbeddings, OutputFolderError } from '../../lib/search/embeddings.ts';
import { meanOf, nearest } from '../../lib/search/nearest.ts';
import { fixture, useTmp } from '../helpers/tmp.ts';
import { runCli } from '../helpers/cli.ts';
import { readParquet, writeParquet } from '../helpers/parquet-write.ts';
import { tableFromArrays } from 'apache-arrow';
import { Rng } from '../../lib/generate/random.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

/** numpy brute force over the 5k reference outputs (test/fixtures/similar/make_neighbours.py). */
const expected = JSON.parse(readFileSync(fixture('similar', 'neighbours.json'), 'utf8')) as {
  ids: string[];
  metric: 'euclidean' | 'cosine';
  neighbours: { id: string; row: number; distance: number }[];
}[];

let out: string;
beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'similar-'));
  await runLocal({ input: fixture('tracks-5k.parquet'), outDir: out, workers: 1 });
});

describe('track-embeddings similar', () => {
  const tmp = useTmp();

  it.each(expected)('$ids ($metric): the ten neighbours numpy brute force finds, in order', ({ ids, metric, neighbours }) => {
    const r = runCli(['similar', out, ...ids.flatMap((id) => ['--id', id]), '--metric', metric, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const got = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { rank: number; id: string; row: number; distance: number });
    expect(got.map((g) => g.id)).toEqual(neighbours.map((n) => n.id));
    expect(got.map((g) => g.rank)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    got.forEach((g, i) => expect(Math.abs(g.distance - neighbours[i]!.distance)).toBeLessThan(1e-9));
  });

  it('prints a table of rank, id and distance', () => {
    const r = runCli(['similar', out, '--id', expected[0]!.ids[0]!, '--k', '3']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^rank {2}id +euclidean distance$/);
    expect(lines.slice(1).map((l) => l.trim().split(/\s+/)[1])).toEqual(expected[0]!.neighbours.slice(0, 3).map((n) => n.id));
  });

  it.each([
    [['--id', 'no-such-id'], 1, /: no track with id 'no-such-id' \(5,000 ids in id_to_index\.json\)$/],
    [[], 2, /^error: missing --id ID, --features JSON, --ids-file FILE or --features-file FILE$/],
    [['--id', 'x', '--metric', 'manhattan'], 2, /^error: --metric must be one of euclidean, cosine, got 'manhattan'$/],
  ])('refuses %j with one line', (args, code, message) => {
    const r = runCli(['similar', out, ...args]);
    expect(r.code).toBe(code);
    expect(r.lines[0]).toMatch(message);
  });

  it('refuses a folder that is not an output folder, and a manifest whose shape the vectors do not have', async () => {
    const empty = tmp();
    await expect(loadEmbeddings(empty)).rejects.toThrow(new OutputFolderError(`${empty}: not an output folder (no manifest.json)`));
    const dir = tmp();
    for (const f of ['spotify_vectors_14d.npy', 'id_to_index.json', 'id_index.bin'])
      writeFileSync(join(dir, f), readFileSync(join(out, f)));
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { outputs: { shape: number[] } };
    manifest.outputs.shape = [5000, 16];
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    await expect(loadEmbeddings(dir)).rejects.toThrow(/the vectors are 5000 × 14, the manifest says 5000 × 16/);
  });

  it('leaves NaN dimensions out of a distance, and breaks ties by row', () => {
    const v = Float32Array.from([0, 0, 1, NaN, 1, 5, 0, 0, 1, 0]);
    const found = nearest(v, 2, Float64Array.from([0, 0]), 4, 'euclidean', new Set([0]));
    // Rows (0,0) excluded, (1,NaN), (1,5), (0,0), (1,0): the NaN dimension drops out, rows 1 and 4 tie.
    expect(found).toEqual([
      { row: 3, distance: 0 },
      { row: 1, distance: 1 },
      { row: 4, distance: 1 },
      { row: 2, distance: Math.sqrt(26) },
    ]);
    expect(Array.from(meanOf(v, 2, [0, 1]))).toEqual([0.5, 0]);
    // The unrolled 14-dimension scan gives the same answers, NaN dimensions included.
    const wide = new Float32Array(5 * 14);
    v.forEach((x, i) => (wide[Math.floor(i / 2) * 14 + (i % 2)] = x));
    expect(nearest(wide, 14, new Float64Array(14), 4, 'euclidean', new Set([0]))).toEqual(found);
  });

  it('prunes a row on a partial sum only when its full distance could not enter: the same answers as sorting every distance', () => {
    const rng = new Rng(7);
    const rows = 3000;
    const v = new Float32Array(rows * 14);
    for (let i = 0; i < v.length; i++) v[i] = rng.normal(0, 1);
    // Ties (rows copied) and NaN dimensions both before and after the partial sums' cut-offs.
    for (let r = 0; r < 200; r++) v.copyWithin((r + 1000) * 14, r * 14, (r + 1) * 14);
    for (let r = 0; r < rows; r += 37) v[r * 14 + (r % 14)] = NaN;
    // Copies of row 1500 that differ in one of the first 8 dimensions, each a little nearer than
    // the last: every one enters the 10 best just under the bar, with a partial sum equal to its
    // whole distance, so a cut-off any tighter than the bar would drop it.
    for (let r = 2000; r < 2100; r++) {
      v.copyWithin(r * 14, 1500 * 14, 1501 * 14);
      v[r * 14 + (r % 8)]! += 1 - (r - 2000) * 1e-5;
    }
    for (const [q, k] of [
      [5, 1],
      [1005, 10],
      [1500, 10],
      [1500, 50],
      [37, 10],
    ] as const) {
      const query = Float64Array.from(v.subarray(q * 14, (q + 1) * 14));
      const all = Array.from({ length: rows }, (_, row) => {
        let s = 0;
        for (let d = 0; d < 14; d++) {
          const diff = v[row * 14 + d]! - query[d]!;
          if (diff === diff) s += diff * diff;
        }
        return { row, distance: Math.sqrt(s) };
      })
        .filter((n) => n.row !== q)
        .sort((a, b) => a.distance - b.distance || a.row - b.row);
      expect(nearest(v, 14, query, k, 'euclidean', new Set([q]))).toEqual(all.slice(0, k));
    }
  });
});

describe('track-embeddings similar --with', () => {
  const tmp = useTmp();

  it('shows the input’s columns beside each neighbour, read from the file the manifest names', async () => {
    const { ids, neighbours } = expected[0]!;
    const r = runCli(['similar', out, '--id', ids[0]!, '--k', '3', '--with', 'name,artists', '--json']);
    expect(r.code).toBe(0);
    const got = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; row: number; name: string; artists: string });
    const table = await readParquet(fixture('tracks-5k.parquet'));
    expect(got.map((g) => g.id)).toEqual(neighbours.slice(0, 3).map((n) => n.id));
    for (const g of got) {
      expect(g.name).toBe(table.getChild('name')!.get(g.row));
      expect(g.artists).toBe(table.getChild('artists')!.get(g.row));
    }
  });

  it('says in one line when the input is not reachable, and still answers', () => {
    const dir = tmp();
    for (const f of ['spotify_vectors_14d.npy', 'id_to_index.json', 'id_index.bin'])
      writeFileSync(join(dir, f), readFileSync(join(out, f)));
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { input: { name: string } };
    manifest.input.name = join(dir, 'gone.parquet');
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    const r = runCli(['similar', dir, '--id', expected[0]!.ids[0]!, '--k', '2', '--with', 'name']);
    expect(r.code).toBe(0);
    expect(r.lines).toEqual([
      `note: cannot show name: the input named in the manifest, ${join(dir, 'gone.parquet')}, is not reachable from here`,
    ]);
    expect(r.stdout.trim().split('\n')).toHaveLength(3);
  });

  it('shows no columns of another file now at the input’s path, saying so in one line, and still answers', () => {
    const dir = tmp();
    for (const f of ['spotify_vectors_14d.npy', 'id_to_index.json', 'id_index.bin'])
      writeFileSync(join(dir, f), readFileSync(join(out, f)));
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { input: { name: string; bytes: number } };
    // A different tracks table where the manifest's input was.
    const other = join(dir, 'tracks.parquet');
    writeFileSync(other, readFileSync(fixture('edge', 'many-rowgroups.parquet')));
    manifest.input.name = other;
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    const r = runCli(['similar', dir, '--id', expected[0]!.ids[0]!, '--k', '2', '--with', 'name']);
    expect(r.code).toBe(0);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(
      new RegExp(
        `^note: cannot show name: .*tracks\\.parquet is [\\d,]+ bytes, not the ${manifest.input.bytes.toLocaleString('en-US')} the manifest names`,
      ),
    );
    expect(r.stdout).not.toMatch(/name/);
  });

  it('refuses a column the input does not have, naming it', () => {
    const r = runCli(['similar', out, '--id', expected[0]!.ids[0]!, '--with', 'lyrics']);
    expect(r.code).toBe(1);
    expect(r.lines[0]).toMatch(/tracks-5k\.parquet: column 'lyrics': not in the file \(its columns: /);
  });
});

describe('track-embeddings similar --features', () => {
  it('embeds a track from its features with the manifest’s scaler: a row’s own features find that row at distance 0, then its neighbours', async () => {
    const table = await readParquet(fixture('tracks-5k.parquet'));
    const columns = DEFAULT_SPEC.features.map((f) => f.column);
    const features = Object.fromEntries(
      columns.map((c) => [c, ((v) => (typeof v === 'bigint' ? Number(v) : v))(table.getChild(c)!.get(42))]),
    );
    const r = runCli(['similar', out, '--features', JSON.stringify(features), '--k', '4', '--json']);
    expect(r.code).toBe(0);
    const got = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { row: number; distance: number; id: string });
    expect(got[0]).toMatchObject({ row: 42, distance: 0 });
    expect(got.slice(1).map((g) => g.id)).toEqual(expected[0]!.neighbours.slice(0, 3).map((n) => n.id));
  });

  it.each([
    ['{"danceability": 0.5}', /^error: --features: missing energy, valence, .*year \(the spec needs /],
    ['[1, 2]', /^error: --features: expected a JSON object of column → value$/],
    ['{', /^error: --features: not valid JSON: /],
  ])('refuses %s in one line', (json, message) => {
    const r = runCli(['similar', out, '--features', json]);
    expect(r.code).toBe(1);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(message);
  });
});

describe('track-embeddings similar --ids-file', () => {
  const tmp = useTmp();

  it('answers one JSON line per id, the same neighbours as --id, and names the ids it does not have', () => {
    const singles = expected.filter((e) => e.ids.length === 1 && e.metric === 'euclidean');
    const file = join(tmp(), 'ids.txt');
    writeFileSync(file, [singles[0]!.ids[0], '', 'no-such-id', singles[1]!.ids[0]].join('\n') + '\n');
    const r = runCli(['similar', out, '--ids-file', file]);
    expect(r.code).toBe(1);
    expect(r.lines).toEqual([`error: 1 of 3 ids are not in ${out}`]);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { query: string; neighbours?: { id: string }[]; error?: string });
    expect(lines.map((l) => l.query)).toEqual([singles[0]!.ids[0], 'no-such-id', singles[1]!.ids[0]]);
    expect(lines[0]!.neighbours!.map((n) => n.id)).toEqual(singles[0]!.neighbours.map((n) => n.id));
    expect(lines[1]).toEqual({ query: 'no-such-id', error: 'no track with this id' });
    expect(lines[2]!.neighbours!.map((n) => n.id)).toEqual(singles[1]!.neighbours.map((n) => n.id));
  });
});

describe('track-embeddings similar --features-file', () => {
  const tmp = useTmp();
  const columns = DEFAULT_SPEC.features.map((f) => f.column);
  /** Rows 42 and 4999 of the fixture: their features, ids and expected neighbours. */
  async function twoRows() {
    const table = await readParquet(fixture('tracks-5k.parquet'));
    const value = (c: string, row: number) => ((v: unknown) => (typeof v === 'bigint' ? Number(v) : v))(table.getChild(c)!.get(row));
    return [42, 4999].map((row) => ({
      id: String(table.getChild('id')!.get(row)),
      features: Object.fromEntries(columns.map((c) => [c, value(c, row)])) as Record<string, number | boolean>,
      neighbours: expected.find(
        (e) => e.ids.length === 1 && e.ids[0] === String(table.getChild('id')!.get(row)) && e.metric === 'euclidean',
      )!.neighbours,
    }));
  }
  const parse = (stdout: string) =>
    stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { query: string; neighbours: { id: string; distance: number }[] });

  it('searches from each track of a Parquet file, embedded as embed would: a row’s own features find it at distance 0', async () => {
    const rows = await twoRows();
    const file = join(tmp(), 'new.parquet');
    writeParquet(
      tableFromArrays({
        id: rows.map((r) => r.id),
        ...Object.fromEntries(columns.map((c) => [c, Float64Array.from(rows.map((r) => Number(r.features[c])))])),
      }),
      file,
    );
    const r = runCli(['similar', out, '--features-file', file, '--k', '4']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = parse(r.stdout);
    expect(lines.map((l) => l.query)).toEqual(rows.map((row) => row.id));
    lines.forEach((l, i) => {
      expect(l.neighbours[0]).toMatchObject({ id: rows[i]!.id, distance: 0 });
      expect(l.neighbours.slice(1).map((n) => n.id)).toEqual(rows[i]!.neighbours.slice(0, 3).map((n) => n.id));
    });
  });

  it('takes a JSON array of tracks, labelled by id or by position', async () => {
    const rows = await twoRows();
    const file = join(tmp(), 'new.json');
    writeFileSync(file, JSON.stringify([{ ...rows[0]!.features, id: rows[0]!.id }, rows[1]!.features]));
    const r = runCli(['similar', out, '--features-file', file, '--k', '2']);
    expect(r.code).toBe(0);
    const lines = parse(r.stdout);
    expect(lines.map((l) => l.query)).toEqual([rows[0]!.id, '#1']);
    expect(lines[1]!.neighbours.map((n) => n.id)).toEqual([rows[1]!.id, rows[1]!.neighbours[0]!.id]);
  });

  it.each([
    [
      'missing.parquet',
      (p: string) => writeParquet(tableFromArrays({ danceability: Float64Array.of(0.5) }), p),
      /missing\.parquet: column '[a-z_]+': required column is missing$/,
    ],
    ['bad.json', (p: string) => writeFileSync(p, '[{"danceability": 0.5}, 3]'), /bad\.json\[0\]: missing energy, /],
    ['empty.json', (p: string) => writeFileSync(p, '[]'), /empty\.json: no tracks \(an empty array\)$/],
  ])('refuses %s in one line', (name, make, message) => {
    const file = join(tmp(), name);
    make(file);
    const r = runCli(['similar', out, '--features-file', file]);
    expect(r.code).toBe(1);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(message);
  });
});
