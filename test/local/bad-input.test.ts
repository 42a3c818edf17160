import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Table, vectorFromArray, Utf8 } from 'apache-arrow';
import { runLocal } from '../../lib/local/runner.ts';
import { DataError, InvalidInputError, SchemaError } from '../../lib/errors.ts';
import { fixture, useTmp } from '../helpers/tmp.ts';
import { readParquet, writeParquet } from '../helpers/parquet-write.ts';

const bad = (name: string) => fixture('bad', name);

describe('bad input is refused with one clear message and no outputs', () => {
  const tmp = useTmp();

  /**
   * Runs the job into a directory holding an unrelated file; asserts the error, that only that
   * file remains, and that the input is unchanged. In this process unless `workers` says otherwise.
   */
  async function expectRefused(input: string, cls: new (...a: never[]) => Error, message: RegExp, workers = 1) {
    const out = tmp();
    writeFileSync(join(out, 'keep.txt'), 'unrelated');
    const before = readFileSync(input);
    const run = runLocal({ input, outDir: out, workers });
    await expect(run).rejects.toThrow(cls);
    await expect(run).rejects.toThrow(message);
    expect(readdirSync(out)).toEqual(['keep.txt']);
    expect(readFileSync(input).equals(before)).toBe(true);
  }

  it.each([
    ['not-parquet.parquet', InvalidInputError, /not-parquet\.parquet: not a Parquet file/],
    ['empty.parquet', InvalidInputError, /empty\.parquet: empty file \(0 bytes\)/],
    ['truncated.parquet', InvalidInputError, /truncated\.parquet: truncated Parquet file/],
    ['missing-column.parquet', SchemaError, /missing-column\.parquet: column 'tempo': required column is missing/],
    ['string-column.parquet', SchemaError, /string-column\.parquet: column 'tempo': expected a number or boolean column, found string/],
    ['timestamp-year.parquet', SchemaError, /column 'year': expected a number or boolean column, found timestamp/],
    ['zero-rows.parquet', InvalidInputError, /zero-rows\.parquet: the file has no rows/],
    ['null-id.parquet', DataError, /null-id\.parquet: column 'id': 1 null id\(s\) in row group 0/],
    // pyarrow reads it, but the reference's DataFrame cannot take two 'tempo' columns; taking one silently could embed the wrong one.
    [
      'duplicate-column.parquet',
      SchemaError,
      /duplicate-column\.parquet: column 'tempo': appears 2 times \(columns 19 and 20\); a column name must be unique/,
    ],
    // The decoder names no column; decoding each alone does. pyarrow fails to read it too.
    [
      'invalid-utf8-id.parquet',
      InvalidInputError,
      /invalid-utf8-id\.parquet: corrupt data in row group 0 \(column id\): the Parquet decoder failed .*: corrupt pages, or strings that are not valid UTF-8/,
    ],
  ] as const)('%s', async (name, cls, message) => {
    await expectRefused(bad(name), cls, message);
  });

  it('a file that does not exist', async () => {
    const out = tmp();
    await expect(runLocal({ input: join(out, 'nope.parquet'), outDir: out })).rejects.toThrow(/nope\.parquet: cannot open/);
    expect(readdirSync(out)).toEqual([]);
  });

  it('a null id the footer does not announce (no statistics) is found in the data, with its row', async () => {
    const dir = tmp();
    const source = await readParquet(fixture('tracks-5k.parquet'));
    const ids = source.getChild('id')!.toArray() as (string | null)[];
    ids[1234] = null;
    const columns = Object.fromEntries(source.schema.fields.map((f) => [f.name, source.getChild(f.name)!]));
    columns.id = vectorFromArray(ids, new Utf8());
    const path = join(dir, 'null-id-no-stats.parquet');
    writeParquet(new Table(columns), path, { statistics: false, rowGroupRows: 1000 });
    await expectRefused(path, DataError, /column 'id': null id at row 1234/);
    // Raised in a worker thread, it arrives with its class and fields, not just its message.
    await expectRefused(path, DataError, /column 'id': null id at row 1234/, 2);
    await expect(runLocal({ input: path, outDir: tmp(), workers: 2 })).rejects.toMatchObject({ file: path, column: 'id' });
  });

  it.each([
    [Infinity, 'Infinity'],
    [-Infinity, '-Infinity'],
  ])('%s in a standardised column is refused, naming the column and row (the reference raises too)', async (value, shown) => {
    const dir = tmp();
    const source = await readParquet(fixture('tracks-5k.parquet'));
    const tempo = Float64Array.from(source.getChild('tempo')!.toArray() as Float64Array);
    tempo[3210] = value;
    const columns = Object.fromEntries(source.schema.fields.map((f) => [f.name, source.getChild(f.name)!]));
    columns.tempo = vectorFromArray(tempo);
    const path = join(dir, 'inf.parquet');
    writeParquet(new Table(columns), path, { rowGroupRows: 1000 });
    await expectRefused(
      path,
      DataError,
      new RegExp(`inf\\.parquet: column 'tempo': row 3210 is ${shown}: infinite values cannot be standardised`),
    );
  });

  it('corrupt page data inside an intact file (a decoder panic) names the file and row group', async () => {
    const dir = tmp();
    const path = join(dir, 'corrupt.parquet');
    const bytes = readFileSync(fixture('tracks-5k.parquet'));
    for (let i = 200_000; i < 200_400; i++) bytes[i]! ^= 0x5a;
    writeFileSync(path, bytes);
    // Narrowed to the one column that fails to decode alone, not the list of every requested column;
    // the same in this process and in a worker thread.
    for (const workers of [1, 2])
      await expectRefused(
        path,
        InvalidInputError,
        /corrupt\.parquet: corrupt data in row group 1 \(column loudness\): the Parquet decoder failed/,
        workers,
      );
  });

  it('replaces earlier outputs only when the new run succeeds', async () => {
    const out = tmp();
    await runLocal({ input: fixture('tracks-5k.parquet'), outDir: out, workers: 1 });
    const before = readFileSync(join(out, 'spotify_vectors_14d.npy'));
    await expect(runLocal({ input: bad('null-id.parquet'), outDir: out })).rejects.toThrow(DataError);
    expect(readFileSync(join(out, 'spotify_vectors_14d.npy')).equals(before)).toBe(true);
    expect(readdirSync(out).sort()).toEqual(['id_index.bin', 'id_to_index.json', 'manifest.json', 'spotify_vectors_14d.npy']);
  });
});
