/** Spotify-style ids made up from row numbers, for the benchmarks that need real ids but no input file. */
import type { IdColumn } from '../lib/embedding/columns.ts';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const LENGTH = 22;

/** A 22-character id for `r`, distinct per `r`. */
export function spotifyId(r: number): string {
  let s = '';
  let x = r * 2654435761 + 12345;
  for (let i = 0; i < LENGTH; i++) {
    s += ALPHABET[x % 62];
    x = Math.floor(x / 62) + (i + 1) * 7919 + r;
  }
  return s;
}

/** The ids of rows first … first + n − 1 as a plain id column. */
export function idColumn(first: number, n: number, idOf: (row: number) => string = spotifyId): IdColumn {
  const offsets = new Int32Array(n + 1);
  const data = new Uint8Array(n * LENGTH);
  for (let i = 0; i < n; i++) {
    const id = idOf(first + i);
    for (let j = 0; j < LENGTH; j++) data[i * LENGTH + j] = id.charCodeAt(j);
    offsets[i + 1] = (i + 1) * LENGTH;
  }
  return { offsets, data };
}
