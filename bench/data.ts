/** The generated input files every benchmark shares, made once and kept in the temp folder. */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { measure } from './measure.ts';

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
