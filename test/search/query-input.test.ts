/**
 * What `similar` reads from the user, refused or taken as meant: the lines of an --ids-file, JSON
 * text, a query track's features (infinite, or beyond float32 once embedded), a features file
 * told apart by its bytes, and a k larger than the rows.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIds } from '../../lib/search/ids-file.ts';
import { parseJsonText } from '../../lib/search/json-text.ts';
import { embedFeatures } from '../../lib/search/features.ts';
import { readQueryTracks } from '../../lib/search/query-tracks.ts';
import { nearest } from '../../lib/search/nearest.ts';
import { DEFAULT_SPEC, standardizedColumns } from '../../lib/embedding/spec.ts';
import type { Scaler } from '../../lib/embedding/stats.ts';
import { DataError, InvalidInputError, SpecError } from '../../lib/errors.ts';
import { useTmp } from '../helpers/tmp.ts';
import { writeParquet } from '../helpers/parquet-write.ts';
import { FEATURE_COLUMNS, featuresOf, tracksTable } from '../helpers/tracks-table.ts';

const utf8 = (text: string) => new TextEncoder().encode(text);

/** A scaler over the default spec's standardised columns: mean 2 and scale 1.5 for each. */
function scaler(): Scaler {
  const k = standardizedColumns(DEFAULT_SPEC).length;
  return { count: Array(k).fill(10), mean: Array(k).fill(2), variance: Array(k).fill(2.25), scale: Array(k).fill(1.5) };
}

/** Every feature 1, but `column`, which is `value`. */
const withValue = (column: string, value: unknown) => ({ ...Object.fromEntries(FEATURE_COLUMNS.map((c) => [c, 1])), [column]: value });

describe('--ids-file lines', () => {
  it.each([
    ['LF endings', 'a\nb\n', ['a', 'b']],
    ['CRLF endings', 'a\r\nb\r\n', ['a', 'b']],
    ['no final newline', 'a\nb', ['a', 'b']],
    ['a byte-order mark at the start', '\ufeffa\nb\n', ['a', 'b']],
    ['spaces and a no-break space kept', ' a \n\u00a0b\nc d\n', [' a ', '\u00a0b', 'c d']],
    ['empty lines skipped', 'a\n\n\r\nb\n', ['a', 'b']],
    ['a tab kept', 'a\tb\n', ['a\tb']],
  ])('%s', (_, text, ids) => {
    expect(parseIds(utf8(text), 'ids.txt')).toEqual(ids);
  });

  it.each([
    ['an empty file', new Uint8Array(0), 'ids.txt: no ids: the file is empty (expected one track id a line)'],
    ['a byte-order mark alone', utf8('\ufeff'), 'ids.txt: no ids: the file is empty (expected one track id a line)'],
    ['only empty lines', utf8('\n\r\n\n'), 'ids.txt: no ids: the file has only empty lines (expected one track id a line)'],
    ['Latin-1 bytes', Uint8Array.of(0x63, 0x61, 0x66, 0xe9, 0x0a), 'ids.txt: not UTF-8 text (expected one track id a line)'],
  ])('refuses %s, naming the file', (_, bytes, message) => {
    expect(() => parseIds(bytes, 'ids.txt')).toThrow(InvalidInputError);
    expect(() => parseIds(bytes, 'ids.txt')).toThrow(message);
  });
});

describe('JSON text', () => {
  it.each([
    ['{', "f.json: not valid JSON: expected property name or '}' at line 1, column 2"],
    ['[\n  {"a" 1}]', "f.json: not valid JSON: expected ':' after property name at line 2, column 8"],
    ['', 'f.json: not valid JSON: unexpected end of JSON input'],
    // Node quotes the text it could not read; a binary file's bytes never reach the message.
    ['PAR1\u0015\u0004\u0000\u0007garbage', "f.json: not valid JSON: unexpected token 'P'"],
    ['\u0001\u0002', "f.json: not valid JSON: unexpected token '\\u0001'"],
  ])('%j is refused in one line: %s', (text, message) => {
    expect(() => parseJsonText(text, 'f.json')).toThrow(SpecError);
    expect(() => parseJsonText(text, 'f.json')).toThrow(new SpecError(message));
  });
});

describe('a query track’s features', () => {
  it.each([
    [
      'tempo',
      1e300,
      "--features: 'tempo' is 1e+300: standardised (fitted mean 2, scale 1.5, weight 1) it is 6.667e+299, beyond float32's range (±3.4e38)",
    ],
    [
      'year',
      -1e39,
      "--features: 'year' is -1e+39: standardised (fitted mean 2, scale 1.5) it is -6.667e+38, beyond float32's range (±3.4e38)",
    ],
    ['key', 1e300, "--features: 'key' is 1e+300: beyond float32's range (±3.4e38)"],
    // JSON.parse gives Infinity for 1e400; JSON.stringify would have shown it as null.
    ['tempo', Infinity, "--features: 'tempo' must be a finite number, a boolean or null, got Infinity (beyond float64's range)"],
    ['energy', '0.5', '--features: \'energy\' must be a finite number, a boolean or null, got "0.5"'],
  ])('%s = %s is refused, naming the column', (column, value, message) => {
    expect(() => embedFeatures(withValue(column, value), DEFAULT_SPEC, scaler())).toThrow(new SpecError(message));
  });

  it('embeds the largest values that stay within float32, and a null as a missing dimension', () => {
    const v = embedFeatures({ ...withValue('key', 3.4e38), year: null }, DEFAULT_SPEC, scaler());
    expect(v[FEATURE_COLUMNS.indexOf('key')]).toBe(Math.fround(3.4e38));
    expect(v[FEATURE_COLUMNS.indexOf('year')]).toBeNaN();
  });
});

describe('a --features-file', () => {
  const tmp = useTmp();

  it('is read as Parquet by its PAR1 bytes whatever its name', async () => {
    const table = tracksTable(3);
    const path = join(tmp(), 'new-tracks.json');
    writeParquet(table, path);
    const tracks = await readQueryTracks(path, DEFAULT_SPEC, scaler());
    expect(tracks.map((t) => t.label)).toEqual(['t0', 't1', 't2']);
    expect(tracks[1]!.vector).toEqual(embedFeatures(featuresOf(table, 1), DEFAULT_SPEC, scaler()));
  });

  it.each([
    [
      'tempo',
      Infinity,
      'row 2 is Infinity: infinite values cannot be standardised (scikit-learn refuses them: "Input X contains infinity")',
    ],
    ['loudness', -Infinity, 'row 2 is -Infinity: infinite values cannot be standardised'],
    ['mode', Infinity, 'row 2 is Infinity: infinite values cannot be embedded'],
    ['tempo', 1e300, "row 2 is 1e+300: standardised (fitted mean 2, scale 1.5, weight 1) it is 6.667e+299, beyond float32's range"],
  ])('with %s = %s in a Parquet row is refused, naming the column and row', async (column, value, problem) => {
    const path = join(tmp(), 'new.parquet');
    writeParquet(tracksTable(4, { set: { [column]: [[2, value]] } }), path, { rowGroupRows: 2 });
    const read = readQueryTracks(path, DEFAULT_SPEC, scaler());
    await expect(read).rejects.toThrow(DataError);
    await expect(read).rejects.toThrow(`${path}: column '${column}': ${problem}`);
  });

  it('that is neither Parquet nor JSON is refused in one line that does not echo its bytes', async () => {
    const path = join(tmp(), 'new-tracks');
    writeFileSync(path, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00]));
    await expect(readQueryTracks(path, DEFAULT_SPEC, scaler())).rejects.toThrow(
      new SpecError(`${path}: not valid JSON: unexpected token '\\u007f' (expected a JSON object or array of objects, or a Parquet file)`),
    );
  });
});

describe('k above the row count', () => {
  it.each([4, 5, 2 ** 32, Number.MAX_SAFE_INTEGER])('k = %s answers every row but the excluded, nearest first', (k) => {
    const v = Float32Array.of(0, 3, 1, 2);
    expect(nearest(v, 1, Float64Array.of(0), k, 'euclidean', new Set([0]))).toEqual([
      { row: 2, distance: 1 },
      { row: 3, distance: 2 },
      { row: 1, distance: 3 },
    ]);
    expect(nearest(v, 1, Float64Array.of(1), k, 'cosine')).toHaveLength(4);
  });
});
