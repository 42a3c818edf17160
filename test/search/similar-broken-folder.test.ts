/** `similar` on a broken output folder: exit 1 and one line naming the file and the problem, never a stack trace (exit 70). */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocal } from '../../lib/local/runner.ts';
import type { Manifest } from '../../lib/outputs/manifest.ts';
import { runCli } from '../helpers/cli.ts';
import { fixture, useTmp } from '../helpers/tmp.ts';

const VECTORS = 'spotify_vectors_14d.npy';
const MAPPING = 'id_to_index.json';
const MANIFEST = 'manifest.json';
const INDEX = 'id_index.bin';

const out = mkdtempSync(join(tmpdir(), 'similar-broken-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
let id: string;
beforeAll(async () => {
  await runLocal({ input: fixture('tracks-5k.parquet'), outDir: out, workers: 1 });
  id = Object.keys(JSON.parse(readFileSync(join(out, MAPPING), 'utf8')) as object)[0]!;
});

const manifestOf = (edit: (m: Manifest) => void) => (text: string) => {
  const m = JSON.parse(text) as Manifest;
  edit(m);
  return JSON.stringify(m);
};

/** A broken copy of the folder: one file's bytes (as latin1 text) changed. */
const cases: [label: string, file: string, change: (text: string) => string, problem: string][] = [
  ['a truncated .npy', VECTORS, (t) => t.slice(0, 1000), 'truncated: 872 bytes of data, a 5,000 × 14 float32 matrix needs 280,000'],
  // A folder without the id index (written before it) is read through its mapping, which must then be sound.
  ['an unindexed folder whose mapping is null', MAPPING, () => 'null', 'expected a JSON object of id → row, found null'],
  ['an unindexed folder whose mapping is not JSON', MAPPING, (t) => t.slice(0, 100), 'not valid JSON'],
  ['an id index that is not one', INDEX, (t) => `XXXXXXXX${t.slice(8)}`, 'not an id index'],
  ['a manifest without its scaler', MANIFEST, manifestOf((m) => void delete (m as Partial<Manifest>).scaler), 'scaler: expected an object'],
  [
    'vectors outside the folder',
    MANIFEST,
    manifestOf((m) => void (m.outputs.vectors = '../../../../etc/hostname')),
    'outputs.vectors: expected the name of a file in this folder (no path), found "../../../../etc/hostname"',
  ],
  ['a spec of 13 features', MANIFEST, manifestOf((m) => void m.spec.features.pop()), "dims: expected 13 (the spec's features), found 14"],
];

describe('similar on a broken output folder', () => {
  const tmp = useTmp();

  it.each(cases)('refuses %s: exit 1, one line naming the file', (_label, file, change, problem) => {
    const dir = tmp();
    for (const f of [VECTORS, MAPPING, INDEX, MANIFEST]) {
      let text = readFileSync(join(out, f), 'latin1');
      if (f === MANIFEST && file === MAPPING) text = manifestOf((m) => void delete m.outputs.idIndex)(text);
      writeFileSync(join(dir, f), f === file ? change(text) : text, 'latin1');
    }
    const r = runCli(['similar', dir, '--id', id]);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.lines[0]).toContain(`error: ${join(dir, file)}: ${problem}`);
    expect(r.code).toBe(1);
  });
});
