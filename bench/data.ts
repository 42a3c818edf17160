/** The generated input files every benchmark shares, made once and kept in the temp folder. */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { measure } from './measure.ts';

export const ROOT = resolve(import.meta.dirname, '..');
const dataDir = join(tmpdir(), 'track-embeddings-bench');

/** The path of a generated tracks file of `rows` rows (1,048,576-row groups), generating it if missing. */
export function benchFile(rows: number): string {
  mkdirSync(dataDir, { recursive: true });
  const input = join(dataDir, `tracks-${rows}.parquet`);
  if (!existsSync(input)) {
    process.stderr.write(`generating ${rows.toLocaleString('en-US')} tracks → ${input}\n`);
    const g = measure([process.execPath, '--import', 'tsx', join(ROOT, 'bin', 'generate.ts'), input, '--rows', String(rows)], ROOT);
    if (!g.ok) throw new Error(`generate failed:\n${g.stderr}`);
  }
  return input;
}

/** A number formatted for a table; n/a when it is not finite. */
export const fmt = (n: number, d = 2): string =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a';
