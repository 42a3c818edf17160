/**
 * Every reader of an output folder loads it through one check (loadEmbeddings): the manifest's
 * fields and version, file names inside the folder, the .npy header and size, the mapping against
 * the rows, the spec's dims against the vectors', and a scaler that fits the spec by name. Each
 * case below is the 5k fixture's folder with one thing changed; each refusal is one
 * OutputFolderError naming the file and the problem.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Client } from '@aws-sdk/client-s3';
import { runLocal } from '../../lib/local/runner.ts';
import type { Manifest } from '../../lib/outputs/manifest.ts';
import { folderFiles, loadEmbeddings, OutputFolderError, type OutputFiles } from '../../lib/search/embeddings.ts';
import { s3OutputFiles } from '../../lib/aws/s3-outputs.ts';
import { fixture, useTmp } from '../helpers/tmp.ts';

const VECTORS = 'spotify_vectors_14d.npy';
const MAPPING = 'id_to_index.json';
const MANIFEST = 'manifest.json';

/** The 5k fixture's output folder, as bytes and parsed JSON, for each case to copy and change. */
let base: { manifest: Manifest; npy: Buffer; mapping: Record<string, number> };
const out = mkdtempSync(join(tmpdir(), 'output-check-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
beforeAll(async () => {
  await runLocal({ input: fixture('tracks-5k.parquet'), outDir: out, workers: 1 });
  base = {
    manifest: JSON.parse(readFileSync(join(out, MANIFEST), 'utf8')) as Manifest,
    npy: readFileSync(join(out, VECTORS)),
    mapping: JSON.parse(readFileSync(join(out, MAPPING), 'utf8')) as Record<string, number>,
  };
});

/** What a case changes: the manifest or mapping in place (or returned whole, as text or any JSON), the .npy's bytes. */
interface Change {
  manifest?: (m: Manifest) => unknown;
  mapping?: (m: Record<string, number>) => unknown;
  npy?: (b: Buffer) => Buffer;
}

const tmp = useTmp();

/** A copy of the base folder with `change` applied. */
function folder(change: Change): string {
  const dir = tmp();
  const json = <T>(value: T, edit?: (v: T) => unknown): string => {
    const copy = structuredClone(value);
    const result = edit?.(copy);
    const out = result === undefined ? copy : result;
    return typeof out === 'string' ? out : JSON.stringify(out);
  };
  writeFileSync(join(dir, MANIFEST), json(base.manifest, change.manifest));
  writeFileSync(join(dir, MAPPING), json(base.mapping, change.mapping));
  writeFileSync(join(dir, VECTORS), change.npy ? change.npy(Buffer.from(base.npy)) : base.npy);
  return dir;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Asserts that loading `dir` is refused with one OutputFolderError: `dir/file: problem`, on one line. */
async function expectRefused(dir: string, file: string, problem: RegExp, from: string | OutputFiles = dir): Promise<void> {
  const load = loadEmbeddings(from);
  await expect(load).rejects.toThrow(OutputFolderError);
  await expect(load).rejects.toThrow(new RegExp(`^${escape(join(dir, file))}: ${problem.source}$`));
}

/** The .npy header as text, for cases that rewrite it (same length, so the data stays in place). */
const withHeader = (edit: (header: string) => string) => (b: Buffer) => {
  const header = b.subarray(10, 128).toString('latin1');
  const changed = edit(header);
  expect(changed).toHaveLength(header.length);
  b.write(changed, 10, 'latin1');
  return b;
};

type Case = [label: string, change: Change, file: string, problem: RegExp];

const manifestCases: Case[] = [
  ['not JSON', { manifest: () => '{"manifestVersion": 1, ' }, MANIFEST, /not valid JSON \(.+\)/],
  ['null', { manifest: () => 'null' }, MANIFEST, /expected a track-embeddings manifest \(a JSON object\), found null/],
  ['an array', { manifest: () => [] }, MANIFEST, /expected a track-embeddings manifest \(a JSON object\), found an array of 0/],
  ['another JSON file', { manifest: () => ({ hello: 1 }) }, MANIFEST, /not a track-embeddings manifest \(no manifestVersion or outputs\)/],
  ['version 2', { manifest: (m) => void Object.assign(m, { manifestVersion: 2 }) }, MANIFEST, /manifestVersion: expected 1 .*, found 2/],
  [
    'no tool',
    { manifest: (m) => void delete (m as Partial<Manifest>).tool },
    MANIFEST,
    /tool: expected "track-embeddings <version>", found missing/,
  ],
  ['no input', { manifest: (m) => void delete (m as Partial<Manifest>).input }, MANIFEST, /input: expected an object .*, found missing/],
  [
    'input rows unlike the shape',
    { manifest: (m) => void (m.input.rows = 4999) },
    MANIFEST,
    /input\.rows: expected 5000 \(outputs\.shape's rows\), found 4999/,
  ],
  ['no spec', { manifest: (m) => void delete (m as Partial<Manifest>).spec }, MANIFEST, /spec: expected a JSON object/],
  [
    'a spec feature without a column',
    { manifest: (m) => void delete (m.spec.features[3] as Partial<Manifest['spec']['features'][number]>).column },
    MANIFEST,
    /spec: features\[3\]\.column must be a non-empty string/,
  ],
  ['dims unlike the spec', { manifest: (m) => void (m.dims = 13) }, MANIFEST, /dims: expected 14 \(the spec's features\), found 13/],
  [
    'a spec of 13 features beside 14 dims',
    { manifest: (m) => void m.spec.features.splice(11, 1) },
    MANIFEST,
    /dims: expected 13 \(the spec's features\), found 14/,
  ],
  [
    'no outputs',
    { manifest: (m) => void delete (m as Partial<Manifest>).outputs },
    MANIFEST,
    /outputs: expected an object .*, found missing/,
  ],
  [
    'no outputs.vectors',
    { manifest: (m) => void delete (m.outputs as Partial<Manifest['outputs']>).vectors },
    MANIFEST,
    /outputs\.vectors: expected the name of a file in this folder \(no path\), found missing/,
  ],
  [
    'outputs.mapping a number',
    { manifest: (m) => void Object.assign(m.outputs, { mapping: 7 }) },
    MANIFEST,
    /outputs\.mapping: expected the name of a file in this folder \(no path\), found 7/,
  ],
  [
    'float64 vectors',
    { manifest: (m) => void Object.assign(m.outputs, { dtype: 'float64' }) },
    MANIFEST,
    /outputs\.dtype: expected "float32", found "float64"/,
  ],
  [
    'a shape of one number',
    { manifest: (m) => void Object.assign(m.outputs, { shape: [5000] }) },
    MANIFEST,
    /outputs\.shape: expected \[rows, columns\], found an array of 1/,
  ],
  [
    'a shape as strings',
    { manifest: (m) => void Object.assign(m.outputs, { shape: ['5000', '14'] }) },
    MANIFEST,
    /outputs\.shape: expected \[rows, columns\], found an array of 2/,
  ],
  [
    'uniqueIds unlike the rows with no repeated ids',
    { manifest: (m) => void (m.outputs.uniqueIds = 4999) },
    MANIFEST,
    /outputs\.uniqueIds: expected 5000 \(one id a row: repeatedIds is false\), found 4999/,
  ],
  ['no scaler', { manifest: (m) => void delete (m as Partial<Manifest>).scaler }, MANIFEST, /scaler: expected an object .*, found missing/],
];

const nameCases: Case[] = [
  ['../../../../etc/hostname', '../../../../etc/hostname'],
  ['an absolute path', '/etc/hostname'],
  ['a file in a subfolder', 'sub/spotify_vectors_14d.npy'],
  ['a Windows path', '..\\..\\spotify_vectors_14d.npy'],
  ['..', '..'],
  ['a drive', 'C:spotify_vectors_14d.npy'],
].map(([label, name]): Case => [
  `outputs.vectors: ${label}`,
  { manifest: (m) => void (m.outputs.vectors = name!) },
  MANIFEST,
  new RegExp(`outputs\\.vectors: expected the name of a file in this folder \\(no path\\), found ${escape(JSON.stringify(name))}`),
]);

const npyCases: Case[] = [
  ['empty', { npy: () => Buffer.alloc(0) }, VECTORS, /empty, not an \.npy file/],
  ['not an .npy', { npy: () => Buffer.from('id,danceability\n') }, VECTORS, /not an \.npy file \(no \\x93NUMPY at its start\)/],
  ['cut in its first bytes', { npy: (b) => b.subarray(0, 8) }, VECTORS, /truncated: 8 bytes, shorter than an \.npy header/],
  [
    'cut in its header',
    { npy: (b) => b.subarray(0, 100) },
    VECTORS,
    /truncated in its header: 100 bytes, the header says it ends at byte 128/,
  ],
  [
    'cut in its data',
    { npy: (b) => b.subarray(0, b.length - 3) },
    VECTORS,
    /truncated: 279,997 bytes of data, a 5,000 × 14 float32 matrix needs 280,000/,
  ],
  [
    'longer than its matrix',
    { npy: (b) => Buffer.concat([b, Buffer.alloc(4)]) },
    VECTORS,
    /4 bytes more than a 5,000 × 14 float32 matrix \(a damaged or different file\)/,
  ],
  [
    'a version numpy never wrote',
    { npy: (b) => ((b[6] = 9), b) },
    VECTORS,
    /\.npy format version 9\.0, not one numpy writes \(1\.0, 2\.0 or 3\.0\)/,
  ],
  [
    'float64',
    { npy: withHeader((h) => h.replace("'<f4'", "'<f8'")) },
    VECTORS,
    /expected a C-ordered float32 matrix, found the header \{'descr': '<f8', 'fortran_order': False, 'shape': \(5000, 14\), \}/,
  ],
  [
    'Fortran order',
    { npy: withHeader((h) => h.replace('False', 'True ')) },
    VECTORS,
    /expected a C-ordered float32 matrix, found the header .*'fortran_order': True .*/,
  ],
  [
    'one dimension',
    { npy: withHeader((h) => h.replace('(5000, 14)', '(70000,)  ')) },
    VECTORS,
    /expected a C-ordered float32 matrix, found the header .*\(70000,\).*/,
  ],
  [
    'a shape unlike the manifest',
    { npy: withHeader((h) => h.replace('(5000, 14)', '(2500, 28)')) },
    VECTORS,
    /the vectors are 2500 × 28, the manifest says 5000 × 14/,
  ],
  [
    'a spec of 13 features beside 14-d vectors',
    {
      manifest: (m) => {
        m.spec.features.splice(11, 1);
        m.dims = 13;
      },
    },
    VECTORS,
    /the vectors have 14 columns, the manifest's spec 13 features \(.*manifest\.json\)/,
  ],
];

/** The mapping's first id, and an id and row of the middle. */
const firstId = () => Object.keys(base.mapping)[0]!;
const middle = () => Object.entries(base.mapping)[2500]!;

const mappingCases: Case[] = [
  ['not JSON', { mapping: () => '{"a": 0, ' }, MAPPING, /not valid JSON \(.+\)/],
  ['null', { mapping: () => 'null' }, MAPPING, /expected a JSON object of id → row, found null/],
  ['an array', { mapping: () => [0, 1, 2] }, MAPPING, /expected a JSON object of id → row, found an array of 3/],
  [
    'one id fewer than the vectors',
    { mapping: (m) => void delete m[middle()[0]] },
    MAPPING,
    /4,999 ids for 5,000 rows \(the manifest counts 5,000 distinct ids\)/,
  ],
  [
    'one id more',
    { mapping: (m) => void (m['extra-id'] = 17) },
    MAPPING,
    /5,001 ids for 5,000 rows \(the manifest counts 5,000 distinct ids\)/,
  ],
  [
    'more ids than rows, with repeated ids',
    {
      manifest: (m) => void Object.assign(m.outputs, { repeatedIds: true, uniqueIds: null }),
      mapping: (m) => void (m['extra-id'] = 17),
    },
    MAPPING,
    /5,001 ids, more than the 5,000 rows of the vectors/,
  ],
  ['a row past the last', { mapping: (m) => void (m[firstId()] = 5000) }, MAPPING, /maps '.+' to 5000, not a row of 0–4999/],
  ['a negative row', { mapping: (m) => void (m[firstId()] = -1) }, MAPPING, /maps '.+' to -1, not a row of 0–4999/],
  ['a fractional row', { mapping: (m) => void (m[firstId()] = 1.5) }, MAPPING, /maps '.+' to 1\.5, not a row of 0–4999/],
  ['a row as a string', { mapping: (m) => void Object.assign(m, { [firstId()]: '0' }) }, MAPPING, /maps '.+' to "0", not a row of 0–4999/],
  [
    'two ids on one row',
    {
      mapping: (m) => {
        const [id] = middle();
        m[id] = 0;
      },
    },
    MAPPING,
    /maps both '.+' and '.+' to row 0/,
  ],
  [
    'no id for the last row, with repeated ids',
    {
      manifest: (m) => void Object.assign(m.outputs, { repeatedIds: true, uniqueIds: null }),
      mapping: (m) => void delete m[Object.keys(m).find((id) => m[id] === 4999)!],
    },
    MAPPING,
    /no id for the last row, 4999 \(every id is at the row of its last occurrence\)/,
  ],
];

/** The manifest's scaler with `edit` applied to it. */
const scaler = (edit: (s: Manifest['scaler']) => void): Change => ({ manifest: (m) => void edit(m.scaler) });

const scalerCases: Case[] = [
  [
    'a short mean',
    scaler((s) => void s.mean.pop()),
    MANIFEST,
    /scaler\.mean: expected 11 values \(one per scaler\.columns\), found an array of 10/,
  ],
  [
    'a long count',
    scaler((s) => void s.count.push(5000)),
    MANIFEST,
    /scaler\.count: expected 11 values \(one per scaler\.columns\), found an array of 12/,
  ],
  [
    'no variance',
    scaler((s) => void delete (s as Partial<typeof s>).variance),
    MANIFEST,
    /scaler\.variance: expected 11 values .*, found missing/,
  ],
  [
    'a mean as a string',
    scaler((s) => void Object.assign(s.mean, { 0: '0.5' })),
    MANIFEST,
    /scaler\.mean of 'danceability': expected a finite number \(5000 values were counted\), found "0\.5"/,
  ],
  ['scale 0', scaler((s) => void (s.scale[3] = 0)), MANIFEST, /scaler\.scale of 'tempo': expected a number above 0, found 0/],
  ['a negative scale', scaler((s) => void (s.scale[3] = -1)), MANIFEST, /scaler\.scale of 'tempo': expected a number above 0, found -1/],
  [
    'a null scale for a counted column',
    scaler((s) => void (s.scale[3] = null)),
    MANIFEST,
    /scaler\.scale of 'tempo': expected a finite number \(5000 values were counted\), found null/,
  ],
  [
    'a mean for a column with no values',
    scaler(
      (s) =>
        void Object.assign(s, {
          count: s.count.map((n, i) => (i === 2 ? 0 : n)),
          variance: s.variance.map((v, i) => (i === 2 ? null : v)),
          scale: s.scale.map((v, i) => (i === 2 ? null : v)),
        }),
    ),
    MANIFEST,
    /scaler\.mean of 'valence': expected null \(the column has no values: count 0\), found 0\.53\d*/,
  ],
  [
    'a negative count',
    scaler((s) => void (s.count[0] = -1)),
    MANIFEST,
    /scaler\.count of 'danceability': expected a count of values, found -1/,
  ],
  [
    'more values than rows',
    scaler((s) => void (s.count[0] = 6000)),
    MANIFEST,
    /scaler\.count: 'danceability' counts 6000 values in 5000 rows/,
  ],
  [
    'a column renamed',
    scaler((s) => void (s.columns[3] = 'tempi')),
    MANIFEST,
    /scaler\.columns: no 'tempo'; 'tempi' not standardised by the spec \(the spec standardises danceability, .*, year\)/,
  ],
  ['a column twice', scaler((s) => void (s.columns[3] = 'energy')), MANIFEST, /scaler\.columns: 'energy' is listed twice/],
  [
    'no columns',
    scaler((s) => void delete (s as Partial<typeof s>).columns),
    MANIFEST,
    /scaler\.columns: expected the spec's standardised columns by name .*, found missing/,
  ],
  [
    'a short dtype',
    scaler((s) => void s.dtype!.pop()),
    MANIFEST,
    /scaler\.dtype: expected 11 of "float32" or "float64" \(one per scaler\.columns\), or nothing, found an array of 10/,
  ],
];

describe('the one check of an output folder', () => {
  describe.each([
    ['the manifest', manifestCases],
    ['file names', nameCases],
    ['the vectors', npyCases],
    ['the mapping', mappingCases],
    ['the scaler', scalerCases],
  ])('%s', (_what, cases) => {
    it.each(cases)('refuses %s', async (_label, change, file, problem) => {
      const dir = folder(change);
      await expectRefused(dir, file, problem);
    });
  });

  it('refuses a name outside the folder without opening it', async () => {
    const dir = folder({ manifest: (m) => void (m.outputs.vectors = '../../../../etc/hostname') });
    const inner = folderFiles(dir);
    const read: string[] = [];
    const files: OutputFiles = { where: dir, read: (file, etag) => (read.push(file), inner.read(file, etag)) };
    await expectRefused(
      dir,
      MANIFEST,
      /outputs\.vectors: expected the name of a file in this folder \(no path\), found "\.\.\/\.\.\/\.\.\/\.\.\/etc\/hostname"/,
      files,
    );
    expect(read).toEqual([MANIFEST]);
  });

  it.each(['../manifest.json', '/etc/hostname', 'a\\b', '..'])('reads no %j through a folder’s or a bucket’s files', async (name) => {
    const dir = tmp();
    await expect(folderFiles(dir).read(name)).rejects.toThrow(
      new OutputFolderError(`${dir}: refusing to read ${JSON.stringify(name)}: not a file name inside the folder`),
    );
    const client = {
      send: () => {
        throw new Error('sent a request');
      },
    } as unknown as S3Client;
    await expect(s3OutputFiles(client, 'bucket', 'embeddings/x/').read(name)).rejects.toThrow(
      new OutputFolderError(`s3://bucket/embeddings/x/: refusing to read ${JSON.stringify(name)}: not a file name inside the folder`),
    );
  });

  it('refuses a folder in a file’s place rather than reading it', async () => {
    const dir = folder({ manifest: (m) => void (m.outputs.vectors = 'sub') });
    mkdirSync(join(dir, 'sub'));
    const load = loadEmbeddings(dir);
    await expect(load).rejects.toThrow(OutputFolderError);
    await expect(load).rejects.toThrow(new OutputFolderError(`${dir}: cannot read sub: not a regular file`));
  });

  it('loads a folder with repeated ids: fewer ids than rows, each at its last row', async () => {
    const [gone, row] = middle();
    const dir = folder({
      manifest: (m) => void Object.assign(m.outputs, { repeatedIds: true, uniqueIds: null }),
      mapping: (m) => void delete m[gone],
    });
    const e = await loadEmbeddings(dir);
    expect(e.index.size).toBe(4999);
    expect(e.ids[row]).toBeNull();
    expect(e.ids.filter((id) => id !== null)).toHaveLength(4999);
  });

  it('loads a column with no values: count 0 and null (NaN) mean, variance and scale', async () => {
    const dir = folder(scaler((s) => Object.assign(s, { count: s.count.map((n, i) => (i === 2 ? 0 : n)), ...nullAt(s, 2) })));
    const e = await loadEmbeddings(dir);
    expect(e.manifest.scaler.count[2]).toBe(0);
    expect([e.manifest.scaler.mean[2], e.manifest.scaler.variance[2], e.manifest.scaler.scale[2]]).toEqual([null, null, null]);
  });

  it('matches scaler.columns by name: listed in another order, each column keeps its own mean and scale', async () => {
    const order = base.manifest.scaler.columns.map((_, i) => i).reverse();
    const dir = folder(
      scaler((s) => {
        for (const key of ['columns', 'count', 'mean', 'variance', 'scale', 'dtype'] as const)
          (s[key] as unknown[]) = order.map((i) => s[key]![i]);
      }),
    );
    const e = await loadEmbeddings(dir);
    expect(e.manifest.scaler).toEqual(base.manifest.scaler);
  });
});

/** The scaler's mean, variance and scale with null at column `i`. */
function nullAt(s: Manifest['scaler'], i: number): Pick<Manifest['scaler'], 'mean' | 'variance' | 'scale'> {
  const at = (xs: (number | null)[]) => xs.map((x, j) => (j === i ? null : x));
  return { mean: at(s.mean), variance: at(s.variance), scale: at(s.scale) };
}
