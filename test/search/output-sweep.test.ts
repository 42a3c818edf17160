/**
 * A seeded corruption sweep of an output folder: every byte region of a 50-row folder's three
 * files mutated (truncations, bytes replaced and bits flipped across headers and data, JSON fields
 * deleted or given the wrong type), each loaded as a reader loads it. A load either gives
 * embeddings that hold together (rows, dims, mapping, scaler, a search and a features query run)
 * or is refused with one OutputFolderError; never another error, never a read outside the folder.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runLocal } from '../../lib/local/runner.ts';
import { writeTracksParquet } from '../../lib/generate/write-parquet.ts';
import { Rng } from '../../lib/generate/random.ts';
import { standardizedColumns } from '../../lib/embedding/spec.ts';
import type { Manifest } from '../../lib/outputs/manifest.ts';
import { isFolderFileName } from '../../lib/outputs/manifest-check.ts';
import { loadEmbeddings, missingOrUnreadable, OutputFolderError, type Embeddings, type OutputFiles } from '../../lib/search/embeddings.ts';
import { meanOf, nearest } from '../../lib/search/nearest.ts';
import { featuresVector } from '../../lib/search/query.ts';
import { PipelineError } from '../../lib/errors.ts';
import { useTmp } from '../helpers/tmp.ts';

const WHERE = 'sweep/out';
const SEED = 20;
const ROWS = 50;
const MANIFEST = 'manifest.json';

type Files = ReadonlyMap<string, Uint8Array>;

/** One mutated folder: what was changed, and the folder's files after the change. */
interface Mutation {
  label: string;
  files: Files;
}

const tmp = useTmp();
/** The 50-row folder (its manifest made byte-stable: no timings, dates or temporary paths), and a variant whose manifest says ids repeat. */
let base: Files;
let repeated: Files;

beforeAll(async () => {
  const dir = tmp();
  await writeTracksParquet(join(dir, 'tracks.parquet'), { rows: ROWS, seed: SEED, rowGroupSize: 20 });
  const run = await runLocal({ input: join(dir, 'tracks.parquet'), outDir: join(dir, 'out'), workers: 1 });
  const manifest = { ...run.manifest, createdAt: '2026-01-01T00:00:00.000Z', timingsMs: { total: 1 } };
  manifest.input = { ...manifest.input, name: 'tracks.parquet' };
  const encode = (m: unknown) => new TextEncoder().encode(JSON.stringify(m, null, 2) + '\n');
  base = new Map([
    [MANIFEST, encode(manifest)],
    [manifest.outputs.vectors, new Uint8Array(readFileSync(run.vectorsPath))],
    [manifest.outputs.mapping, new Uint8Array(readFileSync(run.mappingPath))],
  ]);
  repeated = new Map([...base, [MANIFEST, encode({ ...manifest, outputs: { ...manifest.outputs, repeatedIds: true, uniqueIds: null } })]]);
});

const withFile = (files: Files, file: string, bytes: Uint8Array): Files => new Map([...files, [file, bytes]]);

/** Cuts at the format's boundaries (magic, version, header length, header end) and at seeded offsets. */
function* truncations(files: Files, file: string, rng: Rng): Generator<Mutation> {
  const bytes = files.get(file)!;
  const n = bytes.length;
  const at = new Set([0, 1, 5, 6, 7, 8, 9, 10, 11, 12, 63, 64, 65, 127, 128, 129, n >> 1, n - 5, n - 4, n - 1]);
  for (let i = 0; i < 8; i++) at.add(rng.integers(0, n));
  for (const cut of [...at].filter((c) => c >= 0 && c < n).sort((a, b) => a - b))
    yield { label: `${file} cut to ${cut} bytes`, files: withFile(files, file, bytes.slice(0, cut)) };
  for (const extra of [[0], [0, 0, 0, 0], [...new TextEncoder().encode(' {"x": 1}')]])
    yield { label: `${file} with ${extra.length} bytes appended`, files: withFile(files, file, Uint8Array.from([...bytes, ...extra])) };
}

/** At each offset, the byte replaced by a seeded other value, and its lowest bit flipped (a digit one off, a letter's case). */
function* byteChanges(files: Files, file: string, offsets: Iterable<number>, rng: Rng): Generator<Mutation> {
  const bytes = files.get(file)!;
  for (const at of offsets) {
    for (const value of [(bytes[at]! + rng.integers(1, 256)) & 0xff, bytes[at]! ^ 1]) {
      const copy = bytes.slice();
      copy[at] = value;
      yield { label: `${file} byte ${at} 0x${bytes[at]!.toString(16)} → 0x${value.toString(16)}`, files: withFile(files, file, copy) };
    }
  }
}

/** Values of the wrong type or range for any field. */
const WRONG: unknown[] = [null, true, 0, -1, 1.5, 1e308, '0.5', '', '../../../../etc/hostname', [], {}];

/** Every path into a JSON value (object keys and array indices), the root excluded. */
function* paths(value: unknown, path: (string | number)[] = []): Generator<(string | number)[]> {
  if (value === null || typeof value !== 'object') return;
  for (const key of Array.isArray(value) ? value.keys() : Object.keys(value)) {
    const next = [...path, key];
    yield next;
    yield* paths((value as Record<string | number, unknown>)[key], next);
  }
}

/** The JSON file with the field at `path` deleted (`undefined`) or replaced. */
function edited(json: unknown, path: (string | number)[], value: unknown): Uint8Array {
  const copy = structuredClone(json) as Record<string | number, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (value !== undefined) parent[last] = value;
  else if (Array.isArray(parent)) parent.splice(last as number, 1);
  else delete parent[last];
  return new TextEncoder().encode(JSON.stringify(copy, null, 2));
}

/** Each field of a JSON file deleted, and given each wrong value; the whole file replaced by each. */
function* fieldChanges(files: Files, file: string): Generator<Mutation> {
  const json = JSON.parse(new TextDecoder().decode(files.get(file))) as unknown;
  for (const value of WRONG)
    yield { label: `${file} as ${JSON.stringify(value)}`, files: withFile(files, file, new TextEncoder().encode(JSON.stringify(value))) };
  for (const path of paths(json)) {
    yield { label: `${file} without ${path.join('.')}`, files: withFile(files, file, edited(json, path, undefined)) };
    for (const value of WRONG)
      yield { label: `${file} ${path.join('.')} = ${JSON.stringify(value)}`, files: withFile(files, file, edited(json, path, value)) };
  }
}

/** The mapping with an extra id at each row, and past the ends. */
function* extraIds(files: Files, file: string): Generator<Mutation> {
  const json = JSON.parse(new TextDecoder().decode(files.get(file))) as Record<string, number>;
  for (let row = -1; row <= ROWS; row++)
    yield {
      label: `${file} with an extra id at row ${row}`,
      files: withFile(files, file, new TextEncoder().encode(JSON.stringify({ ...json, extra: row }))),
    };
}

/** Every mutation of the sweep, in a fixed order from a fixed seed. */
function* mutations(): Generator<Mutation> {
  const rng = new Rng(SEED);
  const manifest = JSON.parse(new TextDecoder().decode(base.get(MANIFEST))) as Manifest;
  const { vectors, mapping } = manifest.outputs;
  const all = (n: number) => Array.from({ length: n }, (_, i) => i);
  for (const file of [MANIFEST, vectors, mapping]) yield* truncations(base, file, rng);
  // The .npy: every header byte, a seeded sample of the data.
  const npyHeader = 128;
  const dataOffsets = Array.from({ length: 64 }, () => rng.integers(npyHeader, base.get(vectors)!.length));
  yield* byteChanges(base, vectors, [...all(npyHeader), ...dataOffsets], rng);
  // The JSON files: every byte, fields deleted and mistyped.
  yield* byteChanges(base, MANIFEST, all(base.get(MANIFEST)!.length), rng);
  yield* fieldChanges(base, MANIFEST);
  for (const files of [base, repeated]) {
    yield* truncations(files, mapping, rng);
    yield* byteChanges(files, mapping, all(files.get(mapping)!.length), rng);
    yield* fieldChanges(files, mapping);
    yield* extraIds(files, mapping);
  }
}

/** The folder's files from memory; every name asked for is recorded. */
function memoryFiles(files: Files, asked: string[]): OutputFiles {
  return {
    where: WHERE,
    read(file) {
      asked.push(file);
      const bytes = files.get(file);
      return bytes ? Promise.resolve(bytes) : Promise.reject(missingOrUnreadable(WHERE, file, null));
    },
  };
}

/** What is wrong with loaded embeddings, or null when they hold together. */
function inconsistency(e: Embeddings): string | null {
  const { manifest, rows, dims } = e;
  if (e.vectors.length !== rows * dims) return `${e.vectors.length} floats for ${rows} × ${dims}`;
  if (dims !== manifest.spec.features.length || dims !== manifest.dims) return `${dims} dims, a spec of ${manifest.spec.features.length}`;
  if (manifest.outputs.shape[0] !== rows || manifest.outputs.shape[1] !== dims) return `shape ${String(manifest.outputs.shape)}`;
  if (e.ids.length !== rows) return `${e.ids.length} ids for ${rows} rows`;
  const unique = manifest.outputs.uniqueIds;
  if (e.index.size > rows || (unique !== null && e.index.size !== unique)) return `${e.index.size} ids in the mapping`;
  for (const [id, row] of e.index) if (e.ids[row] !== id) return `'${id}' at row ${row}, ids[${row}] = ${e.ids[row]}`;
  if (e.ids.filter((id) => id !== null).length !== e.index.size) return 'rows without their ids';
  const s = manifest.scaler;
  const wanted = standardizedColumns(manifest.spec);
  if (String(s.columns) !== String(wanted)) return `scaler columns ${String(s.columns)}`;
  for (const key of ['count', 'mean', 'variance', 'scale'] as const)
    if (s[key].length !== wanted.length) return `scaler.${key} of ${s[key].length}`;
  for (let i = 0; i < wanted.length; i++) {
    const counted = s.count[i]! > 0;
    if (counted !== [s.mean[i], s.variance[i], s.scale[i]].every((x) => typeof x === 'number' && Number.isFinite(x)))
      return `scaler column ${i}`;
    if (counted && !(s.scale[i]! > 0)) return `scale ${s.scale[i]}`;
  }
  // A reader's two queries: from a row, and from features.
  const [first] = e.index.values();
  if (
    first !== undefined &&
    nearest(e.vectors, dims, meanOf(e.vectors, dims, [first]), 3, 'euclidean', new Set([first])).length !== Math.min(3, rows - 1)
  )
    return 'a search found too few neighbours';
  // A features query may be refused (a value the fitted scaler takes beyond float32), but only in one line.
  const features = Object.fromEntries(manifest.spec.features.map((f) => [f.column, 0.5]));
  try {
    if (featuresVector(e, features, 'sweep').length !== dims) return 'a features query of the wrong length';
  } catch (err: unknown) {
    if (!(err instanceof PipelineError) || err.message.includes('\n')) return `a features query failed: ${String(err)}`;
  }
  return null;
}

describe('a seeded corruption sweep of an output folder', () => {
  it('loads every mutation consistently or refuses it with one OutputFolderError', async () => {
    const started = performance.now();
    const problems: string[] = [];
    const outcomes = { loaded: 0, refused: 0 };
    for (const { label, files } of mutations()) {
      const asked: string[] = [];
      try {
        const e = await loadEmbeddings(memoryFiles(files, asked));
        outcomes.loaded++;
        const wrong = inconsistency(e);
        if (wrong) problems.push(`${label}: loaded, but ${wrong}`);
      } catch (err: unknown) {
        outcomes.refused++;
        const message = err instanceof Error ? err.message : String(err);
        if (!(err instanceof OutputFolderError)) problems.push(`${label}: ${err instanceof Error ? err.name : typeof err}: ${message}`);
        else if (message.includes('\n') || !message.startsWith(WHERE))
          problems.push(`${label}: a refusal not on one line naming the folder: ${JSON.stringify(message)}`);
      }
      const outside = asked.filter((file) => !isFolderFileName(file));
      if (outside.length > 0) problems.push(`${label}: asked for ${outside.join(', ')}`);
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `output-folder sweep: ${outcomes.loaded + outcomes.refused} mutations, ${outcomes.loaded} loaded, ${outcomes.refused} refused, ${seconds.toFixed(2)} s`,
    );
    expect(problems.slice(0, 20)).toEqual([]);
    expect(outcomes.loaded + outcomes.refused).toBeGreaterThan(10_000);
    expect(outcomes.refused).toBeGreaterThan(outcomes.loaded / 4);
  });
});
