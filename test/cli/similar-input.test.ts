/**
 * `similar` as a user drives it with odd input: numbers parseArgs would call ambiguous, a k far
 * above the rows, ids with spaces in a CRLF file with a BOM, features beyond float32, a features
 * file whose name does not say Parquet, and --with in the batch modes. Refusals are one line,
 * exit 1 (input) or 2 (usage), never 70.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocal } from '../../lib/local/runner.ts';
import { CLI, runCli } from '../helpers/cli.ts';
import { writeParquet } from '../helpers/parquet-write.ts';
import { featuresOf, tracksTable } from '../helpers/tracks-table.ts';

/** Ids a trimming reader would lose: leading, trailing and inner spaces, a trailing no-break space. */
const ODD_IDS = [' lead', 'trail ', 'mid dle', 'nbsp\u00a0', 'plain'];
const ROWS = 40;
const BIG_ROWS = 200_000;

let root: string;
let small: string;
let big: string;
let table: ReturnType<typeof tracksTable>;

type Line = { query: string; neighbours?: { id: string; row: number; name?: string }[]; error?: string };
const jsonLines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'similar-input-'));
  table = tracksTable(ROWS, { ids: [...ODD_IDS, ...Array.from({ length: ROWS - ODD_IDS.length }, (_, i) => `t${i}`)] });
  writeParquet(table, join(root, 'small.parquet'));
  small = join(root, 'small');
  await runLocal({ input: join(root, 'small.parquet'), outDir: small, workers: 1 });
  writeParquet(tracksTable(BIG_ROWS, { seed: 2 }), join(root, 'big.parquet'));
  big = join(root, 'big');
  await runLocal({ input: join(root, 'big.parquet'), outDir: big, workers: 1 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('similar --k', () => {
  it.each([['-1'], ['0'], ['1e400'], ['abc'], ['1.5'], ['']])('--k %j is a one-line usage error, with a space or =', (k) => {
    for (const args of [['--k', k], [`--k=${k}`]]) {
      const r = runCli(['similar', small, '--id', 'plain', ...args]);
      expect(r.code).toBe(2);
      expect(r.lines).toEqual([`error: --k must be an integer of at least 1, got '${k}'`, "see 'track-embeddings similar --help'"]);
    }
  });

  it('says what the limit is for a whole number past 2^53', () => {
    const r = runCli(['similar', small, '--id', 'plain', '--k', '99999999999999999999']);
    expect(r.code).toBe(2);
    expect(r.lines[0]).toBe(
      "error: --k must be an integer of at least 1 and at most 9007199254740991 (2^53 − 1), got '99999999999999999999'",
    );
  });

  it('takes a value starting with a dash as the value of any option (--workers -2), and still refuses a forgotten one', () => {
    expect(runCli(['similar', small, '--ids-file', 'x', '--workers', '-2']).lines[0]).toBe(
      "error: --workers must be an integer of at least 1, got '-2'",
    );
    // An id may start with a dash: it is looked up, not taken for an option.
    expect(runCli(['similar', small, '--id', '-x1']).lines[0]).toMatch(/: no track with id '-x1' /);
    expect(runCli(['similar', small, '--id', 'plain', '--k', '-h']).code).toBe(2);
  });

  it('--k 4294967296 answers every other row', () => {
    const r = runCli(['similar', small, '--id', 'plain', '--k', '4294967296', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { row: number }).row);
    expect(rows.sort((a, b) => a - b)).toEqual(Array.from({ length: ROWS }, (_, i) => i).filter((i) => i !== ODD_IDS.indexOf('plain')));
  });

  it('--k 200000 prints the whole table, the same bytes through a pipe as into a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'similar-table-'));
    try {
      const cmd = `"${process.execPath}" "${CLI}" similar "${big}" --id t0 --k ${BIG_ROWS}`;
      const r = spawnSync(
        'bash',
        ['-c', `${cmd} > "${dir}/file"; echo "file $?" >&2; ${cmd} | cat > "${dir}/pipe"; echo "pipe \${PIPESTATUS[0]}" >&2`],
        {
          encoding: 'utf8',
          timeout: 120_000,
        },
      );
      expect(r.stderr).toBe('file 0\npipe 0\n');
      const file = readFileSync(join(dir, 'file'));
      expect(file.equals(readFileSync(join(dir, 'pipe')))).toBe(true);
      const lines = file.toString().trimEnd().split('\n');
      expect(lines).toHaveLength(BIG_ROWS); // the header and every row but the query's
      expect(lines[0]).toMatch(/^ +rank {2}id +euclidean distance$/); // rank right-aligned to 199999
      expect(lines.at(-1)).toMatch(new RegExp(`^${BIG_ROWS - 1}  t\\d+ +\\d+\\.\\d{6}$`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('similar --ids-file', () => {
  it('takes each line as written: a BOM, CRLF endings, and ids with spaces and a no-break space are all found', () => {
    const file = join(root, 'ids-crlf.txt');
    writeFileSync(file, '\ufeff' + ODD_IDS.join('\r\n') + '\r\n');
    const r = runCli(['similar', small, '--ids-file', file, '--k', '2']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines.map((l) => l.query)).toEqual(ODD_IDS);
    for (const l of lines) expect(l.neighbours).toHaveLength(2);
  });

  it.each([
    ['empty.txt', '', 'no ids: the file is empty (expected one track id a line)'],
    ['blank.txt', '\n\n', 'no ids: the file has only empty lines (expected one track id a line)'],
  ])('refuses %s with exit 1 and one line', (name, text, problem) => {
    const file = join(root, name);
    writeFileSync(file, text);
    const r = runCli(['similar', small, '--ids-file', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.lines).toEqual([`error: ${file}: ${problem}`]);
  });

  it('honours --with: each neighbour carries the input’s columns', () => {
    const file = join(root, 'ids.txt');
    writeFileSync(file, 'plain\nno-such-id\nt3\n');
    const r = runCli(['similar', small, '--ids-file', file, '--k', '3', '--with', 'name']);
    expect(r.code).toBe(1);
    expect(r.lines).toEqual([`error: 1 of 3 ids are not in ${small}`]);
    const lines = jsonLines(r.stdout);
    expect(lines.map((l) => l.query)).toEqual(['plain', 'no-such-id', 't3']);
    expect(lines[1]).toEqual({ query: 'no-such-id', error: 'no track with this id' });
    for (const l of [lines[0]!, lines[2]!]) {
      expect(l.neighbours).toHaveLength(3);
      for (const n of l.neighbours!) expect(n.name).toBe(`song ${n.row}`);
    }
  });
});

describe('similar --features and --features-file', () => {
  it('refuses --features whose value is beyond float32 once embedded, naming the column', () => {
    const r = runCli(['similar', small, '--features', JSON.stringify({ ...featuresOf(table, 3), tempo: 1e300 })]);
    expect(r.code).toBe(1);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(
      /^error: --features: 'tempo' is 1e\+300: standardised \(fitted mean .*\) it is .*, beyond float32's range \(±3\.4e38\)$/,
    );
  });

  it('refuses --features with 1e400 (Infinity in JSON.parse) without calling it null', () => {
    const r = runCli(['similar', small, '--features', JSON.stringify(featuresOf(table, 3)).replace(/"tempo":[^,}]+/, '"tempo":1e400')]);
    expect(r.code).toBe(1);
    expect(r.lines).toEqual([
      "error: --features: 'tempo' must be a finite number, a boolean or null, got Infinity (beyond float64's range)",
    ]);
  });

  it('refuses a features Parquet with +Inf as embed words it, naming the column and row', () => {
    const file = join(root, 'inf.parquet');
    writeParquet(tracksTable(30, { set: { tempo: [[17, Infinity]] } }), file, { rowGroupRows: 10 });
    const r = runCli(['similar', small, '--features-file', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.lines).toEqual([
      `error: ${file}: column 'tempo': row 17 is Infinity: infinite values cannot be standardised (scikit-learn refuses them: "Input X contains infinity")`,
    ]);
  });

  it('reads a Parquet features file without the .parquet suffix by its magic bytes, and honours --with', () => {
    const file = join(root, 'new-tracks');
    writeParquet(tracksTable(2, { ids: ['x', 'y'], seed: 3 }), file);
    const r = runCli(['similar', small, '--features-file', file, '--k', '2', '--with', 'name']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines.map((l) => l.query)).toEqual(['x', 'y']);
    for (const l of lines) for (const n of l.neighbours!) expect(n.name).toBe(`song ${n.row}`);
  });

  it('refuses a features file that is neither Parquet nor JSON in one line, its bytes not echoed', () => {
    const file = join(root, 'features.json');
    writeFileSync(file, Buffer.from('PAR0\u0015\u0004\u001b[31mred', 'latin1'));
    const r = runCli(['similar', small, '--features-file', file]);
    expect(r.code).toBe(1);
    expect(r.lines).toEqual([
      `error: ${file}: not valid JSON: unexpected token 'P' (expected a JSON object or array of objects, or a Parquet file)`,
    ]);
  });
});
