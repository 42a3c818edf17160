/**
 * Realistic Spotify-like tracks, column-wise: a TypeScript port of
 * `shared/reference/generate_tracks.py` (same 19 columns, order, Arrow types, distributions,
 * correlations, rounding and clipping; a different PRNG, so not numpy's exact numbers).
 *
 * Rows are generated in fixed blocks of {@link TRACKS_BLOCK_ROWS}; block `b` of seed `s` always
 * comes from `new Rng(s, b)`, so a file's rows depend only on the seed and the row index — the
 * first N rows of any file with a given seed are the same whatever its length, row-group size
 * or compression.
 */
import { Rng } from './random.ts';
import { TRACKS_BLOCK_ROWS, type TracksChunk } from './schema.ts';
import {
  genAcousticness,
  genBernoulli,
  genDuration,
  genEnergy,
  genExplicit,
  genInstrumentalness,
  genLiveness,
  genLoudness,
  genNormalFeature,
  genPopularity,
  genSpeechiness,
  genTempo,
  genYears,
  toInt64,
} from './numeric-columns.ts';
import { genArtists, genIds, genNames, genReleaseDates } from './text-columns.ts';

/** Generates `rows` tracks column-wise from `rng`; deterministic for a given generator state. */
export function generateTracks(rows: number, rng: Rng): TracksChunk {
  if (!Number.isSafeInteger(rows) || rows < 0) throw new RangeError(`rows must be a non-negative integer, got ${rows}`);
  const n = rows;
  // Scratch columns of uniform and normal draws, reused across columns.
  const u = new Float64Array(n);
  const z = new Float64Array(n);

  const year = genYears(rng, u);
  const era = new Float64Array(n); // the latent trend behind most correlations
  for (let i = 0; i < n; i++) era[i] = (year[i]! - 1977) / 25.6;
  const popularity = genPopularity(rng, era, z);
  const acousticness = genAcousticness(rng, era, u, z);
  const energy = genEnergy(rng, era, acousticness, z);
  const loudness = genLoudness(rng, era, energy, z);
  const danceability = genNormalFeature(rng, era, 0.538, 0.175, 0.03, 0, 0.988, 1e3);
  const valence = genNormalFeature(rng, era, 0.529, 0.263, 0, 0, 1, 1e4);
  const instrumentalness = genInstrumentalness(rng, u);
  const liveness = genLiveness(rng, n);
  const speechiness = genSpeechiness(rng, u);
  const tempo = genTempo(rng, u);
  const duration = genDuration(rng, z);
  const explicit = genExplicit(rng, era, u);
  const key = rng.fillIntegers(new Int32Array(n), 0, 12);
  const mode = genBernoulli(rng, 0.707, u);
  const id = genIds(rng, n);
  const name = genNames(rng, n);
  const artists = genArtists(rng, n);
  const release_date = genReleaseDates(rng, year);

  return {
    rows: n,
    columns: {
      valence,
      year: toInt64(year),
      acousticness,
      artists,
      danceability,
      duration_ms: toInt64(duration),
      energy,
      explicit: toInt64(explicit),
      id,
      instrumentalness,
      key: toInt64(key),
      liveness,
      loudness,
      mode: toInt64(mode),
      name,
      popularity: toInt64(popularity),
      release_date,
      speechiness,
      tempo,
    },
  };
}

/** Generates deterministic block `block` ({@link TRACKS_BLOCK_ROWS} rows) of the tracks for `seed`. */
export function generateTracksBlock(seed: number, block: number): TracksChunk {
  return generateTracks(TRACKS_BLOCK_ROWS, new Rng(seed, block));
}
