/** The generated input files (and 14-d matrices) every benchmark shares, made once and kept in the temp folder. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { measure } from './measure.ts';
import { npyHeader } from '../lib/outputs/npy.ts';
import { Rng } from '../lib/generate/random.ts';

const DIMS = 14;

export const ROOT = resolve(import.meta.dirname, '..');
const dataDir = join(tmpdir(), 'track-embeddings-bench');

/** The path of a generated tracks file of `rows` rows (in row groups of `groupRows`, default 1,048,576), generating it if missing. */
export function benchFile(rows: number, groupRows?: number): string {
  mkdirSync(dataDir, { recursive: true });
  const input = join(dataDir, `tracks-${rows}${groupRows ? `-g${groupRows}` : ''}.parquet`);
  if (!existsSync(input)) {
    process.stderr.write(`generating ${rows.toLocaleString('en-US')} tracks → ${input}\n`);
    const size = groupRows ? ['--row-group-size', String(groupRows)] : [];
    const g = measure(
      [process.execPath, join(ROOT, 'dist', 'track-embeddings.js'), 'generate', input, '--rows', String(rows), ...size],
      ROOT,
    );
    if (!g.ok) throw new Error(`generate failed:\n${g.stderr}`);
  }
  return input;
}

/** A number formatted for a table; n/a when it is not finite. */
export const fmt = (n: number, d = 2): string =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a';

/** A seeded matrix of `rows` × 14 normal float32 values, as an .npy, made once. */
export function normalVectors(rows: number): string {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, `vectors-${rows}.npy`);
  if (existsSync(path)) return path;
  process.stderr.write(`making ${rows.toLocaleString('en-US')} × ${DIMS} vectors → ${path}\n`);
  const rng = new Rng(rows);
  const data = new Float32Array(rows * DIMS);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal(0, 1);
  writeFileSync(path, Buffer.concat([npyHeader(rows, DIMS), new Uint8Array(data.buffer)]));
  return path;
}

/** The embeddings of the generated tracks file of `rows` rows, made once by the built command. */
export function trackVectors(rows: number): string {
  const out = join(dataDir, `embeddings-${rows}`);
  const path = join(out, 'spotify_vectors_14d.npy');
  if (existsSync(path)) return path;
  process.stderr.write(`embedding ${rows.toLocaleString('en-US')} generated tracks → ${out}\n`);
  const r = measure([process.execPath, join(ROOT, 'dist', 'track-embeddings.js'), benchFile(rows), '-o', out], ROOT);
  if (!r.ok) throw new Error(`embed failed:\n${r.stderr}`);
  return path;
}
