/** The text columns of generated tracks (id, name, artists, release_date), written straight into UTF-8 buffers. */
import type { Rng } from './random.ts';
import type { Utf8Column } from './schema.ts';

function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

const B62 = ascii('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz');
const WORDS = (
  'love night heart time baby girl dance blue dream life fire rain home light ' +
  'summer road moon soul gold wild sweet river city song day world star'
).split(' ');
const ARTISTS = [
  'Frank Sinatra',
  'The Beatles',
  'Ella Fitzgerald',
  'Queen',
  'Drake',
  'Taylor Swift',
  'Miles Davis',
  'Johann Sebastian Bach',
  'Bob Dylan',
  'Aretha Franklin',
  'Daft Punk',
  'Bad Bunny',
  'Metallica',
  'Billie Holiday',
  'Kendrick Lamar',
  'Mozart',
  'ABBA',
  'Adele',
  'Los Tigres del Norte',
  'BTS',
  'Nirvana',
  'Louis Armstrong',
  'Shakira',
  'Eminem',
];
/** Title-cased words, as Python's `str.title()` makes them. */
const TITLE_WORDS = WORDS.map((w) => ascii(w.charAt(0).toUpperCase() + w.slice(1)));
const MAX_TITLE_WORD = Math.max(...TITLE_WORDS.map((w) => w.length));
/** Artist names quoted as in Python's `str(list)`: `'Name'` (no name contains a quote). */
const QUOTED_ARTISTS = ARTISTS.map((a) => ascii(`'${a}'`));
const MAX_QUOTED_ARTIST = Math.max(...QUOTED_ARTISTS.map((a) => a.length));
/** `r.choice([1, 1, 1, 2, 3])`: how many artists a track has. */
const ARTIST_COUNTS = [1, 1, 1, 2, 3] as const;
const MAX_ARTISTS = 3;

const ID_LENGTH = 22;
const B62_POW5 = 62 ** 5; // 916,132,832: five base-62 digits per accepted 32-bit draw
const B62_POW5_LIMIT = Math.floor(4294967296 / B62_POW5) * B62_POW5;

/** Appends the decimal digits of a non-negative integer with at least `width` digits; returns the new position. */
function putDigits(buf: Uint8Array, pos: number, value: number, width: number): number {
  let digits = 1;
  for (let v = value; v >= 10; v = Math.floor(v / 10)) digits++;
  const len = Math.max(width, digits);
  for (let j = len - 1; j >= 0; j--) {
    buf[pos + j] = 48 + (value % 10);
    value = Math.floor(value / 10);
  }
  return pos + len;
}

function finishUtf8(offsets: Int32Array, buf: Uint8Array, end: number): Utf8Column {
  return { offsets, data: buf.slice(0, end) };
}

/** id: 22 uniform base-62 characters, five per accepted 32-bit draw. */
export function genIds(rng: Rng, n: number): Utf8Column {
  const offsets = new Int32Array(n + 1);
  const data = new Uint8Array(n * ID_LENGTH);
  for (let i = 0, pos = 0; i < n; i++) {
    for (let filled = 0; filled < ID_LENGTH;) {
      const r = rng.uint32();
      if (r >= B62_POW5_LIMIT) continue;
      // r mod 62^5 without a floating-point modulo; the result fits in an int32.
      let x = (r - Math.floor(r / B62_POW5) * B62_POW5) | 0;
      for (let d = 0; d < 5 && filled < ID_LENGTH; d++, filled++) {
        const q = (x / 62) | 0;
        data[pos++] = B62[x - q * 62]!;
        x = q;
      }
    }
    offsets[i + 1] = pos;
  }
  return { offsets, data };
}

/** name: 1-4 words drawn with replacement, title-cased, space-separated. */
export function genNames(rng: Rng, n: number): Utf8Column {
  const offsets = new Int32Array(n + 1);
  const buf = new Uint8Array(n * (4 * MAX_TITLE_WORD + 3));
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const k = rng.integers(1, 5);
    for (let w = 0; w < k; w++) {
      if (w > 0) buf[pos++] = 0x20;
      const word = TITLE_WORDS[rng.integers(0, TITLE_WORDS.length)]!;
      for (let j = 0; j < word.length; j++) buf[pos++] = word[j]!; // faster than set() for a few bytes
    }
    offsets[i + 1] = pos;
  }
  return finishUtf8(offsets, buf, pos);
}

/** artists: str() of a list of 1, 2 or 3 distinct artists in random order, e.g. "['Queen', 'ABBA']". */
export function genArtists(rng: Rng, n: number): Utf8Column {
  const offsets = new Int32Array(n + 1);
  const buf = new Uint8Array(n * (2 + MAX_ARTISTS * (MAX_QUOTED_ARTIST + 2)));
  const picked = new Int32Array(MAX_ARTISTS);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const k = ARTIST_COUNTS[rng.integers(0, ARTIST_COUNTS.length)]!;
    buf[pos++] = 0x5b; // [
    for (let a = 0; a < k; a++) {
      let pick: number;
      let dup: boolean;
      do {
        pick = rng.integers(0, QUOTED_ARTISTS.length);
        dup = false;
        for (let b = 0; b < a; b++) if (picked[b] === pick) dup = true;
      } while (dup);
      picked[a] = pick;
      if (a > 0) {
        buf[pos++] = 0x2c; // ,
        buf[pos++] = 0x20;
      }
      const quoted = QUOTED_ARTISTS[pick]!;
      for (let j = 0; j < quoted.length; j++) buf[pos++] = quoted[j]!;
    }
    buf[pos++] = 0x5d; // ]
    offsets[i + 1] = pos;
  }
  return finishUtf8(offsets, buf, pos);
}

/** release_date: the bare year for first-half-year tracks before 1960, else YYYY-MM-DD (day 1-28). */
export function genReleaseDates(rng: Rng, year: Int32Array): Utf8Column {
  const n = year.length;
  const offsets = new Int32Array(n + 1);
  const buf = new Uint8Array(n * 10);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const y = year[i]!;
    const month = rng.integers(1, 13);
    const day = rng.integers(1, 29);
    pos = putDigits(buf, pos, y, 4);
    if (!(y < 1960 && month < 7)) {
      buf[pos++] = 0x2d; // -
      pos = putDigits(buf, pos, month, 2);
      buf[pos++] = 0x2d;
      pos = putDigits(buf, pos, day, 2);
    }
    offsets[i + 1] = pos;
  }
  return finishUtf8(offsets, buf, pos);
}
