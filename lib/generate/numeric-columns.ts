/**
 * The numeric columns of generated tracks: each a port of one distribution of
 * `generate_tracks.py`, with numpy's rounding (`rint`, `round`) and clipping.
 */
import type { Rng } from './random.ts';

const LN_015 = Math.log(0.15);
const LN_005 = Math.log(0.05);
const LN_215000 = Math.log(215000);

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** numpy `rint`: round half to even. */
function rint(x: number): number {
  const r = Math.round(x); // half up
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** numpy `round(x, decimals)`: `rint(x * 10**decimals) / 10**decimals`. */
function roundTo(x: number, scale: number): number {
  return rint(x * scale) / scale;
}

function clip(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** Widens small integers to an int64 column (written word-wise on little-endian hosts). */
export function toInt64(values: Int32Array): BigInt64Array {
  const out = new BigInt64Array(values.length);
  if (LITTLE_ENDIAN) {
    const words = new Int32Array(out.buffer);
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      words[2 * i] = v;
      words[2 * i + 1] = v >> 31; // sign extension
    }
  } else {
    for (let i = 0; i < values.length; i++) out[i] = BigInt(values[i]!);
  }
  return out;
}

/**
 * numpy's `where(mask, A, B)` where A and B are expensive draws: fills the rows whose `mask` is
 * set from `drawA` and the others from `drawB`, drawing only as many values as each side needs.
 */
function drawWhere(mask: Uint8Array, drawA: (out: Float64Array) => void, drawB: (out: Float64Array) => void): Float64Array {
  const n = mask.length;
  let countA = 0;
  for (let i = 0; i < n; i++) countA += mask[i]!;
  const a = new Float64Array(countA);
  const b = new Float64Array(n - countA);
  drawA(a);
  drawB(b);
  const out = new Float64Array(n);
  for (let i = 0, ia = 0, ib = 0; i < n; i++) out[i] = mask[i] ? a[ia++]! : b[ib++]!;
  return out;
}

/** Sets mask[i] = 1 where u[i] < threshold[i] (or a constant threshold). */
function below(u: Float64Array, threshold: number | Float64Array, mask = new Uint8Array(u.length)): Uint8Array {
  if (typeof threshold === 'number') for (let i = 0; i < u.length; i++) mask[i] = u[i]! < threshold ? 1 : 0;
  else for (let i = 0; i < u.length; i++) mask[i] = u[i]! < threshold[i]! ? 1 : 0;
  return mask;
}

export function genYears(rng: Rng, u: Float64Array): Int32Array {
  const n = u.length;
  const year = new Int32Array(n);
  rng.fillRandom(u);
  for (let i = 0; i < n; i++) year[i] = u[i]! < 0.12 ? rng.integers(1921, 1950) : rng.integers(1950, 2021);
  return year;
}

export function genPopularity(rng: Rng, era: Float64Array, z: Float64Array): Int32Array {
  const out = new Int32Array(era.length);
  rng.fillNormal(z, 0, 11);
  for (let i = 0; i < out.length; i++) out[i] = rint(clip(31.4 + 18.5 * era[i]! + z[i]!, 0, 100));
  return out;
}

export function genAcousticness(rng: Rng, era: Float64Array, u: Float64Array, z: Float64Array): Float64Array {
  const n = era.length;
  const p = rng.fillNormal(z, 0, 1.1);
  for (let i = 0; i < n; i++) p[i] = 1 / (1 + Math.exp(1.6 * era[i]! - 0.1 + z[i]!));
  const v = drawWhere(
    below(rng.fillRandom(u), p),
    (a) => rng.fillBeta(a, 5, 1.2),
    (b) => rng.fillBeta(b, 0.6, 4),
  );
  for (let i = 0; i < n; i++) v[i] = roundTo(clip(v[i]!, 0, 0.996), 1e6);
  return v;
}

export function genEnergy(rng: Rng, era: Float64Array, acousticness: Float64Array, z: Float64Array): Float64Array {
  const out = new Float64Array(era.length);
  rng.fillNormal(z, 0, 0.17);
  for (let i = 0; i < out.length; i++) {
    out[i] = roundTo(clip(0.48 + 0.12 * era[i]! - 0.35 * (acousticness[i]! - 0.5) + z[i]!, 0, 1), 1e4);
  }
  return out;
}

export function genLoudness(rng: Rng, era: Float64Array, energy: Float64Array, z: Float64Array): Float64Array {
  const out = new Float64Array(era.length);
  rng.fillNormal(z, 0, 3.2);
  for (let i = 0; i < out.length; i++) {
    out[i] = roundTo(clip(-11.5 + 11 * (energy[i]! - 0.48) + 1.2 * era[i]! + z[i]!, -60, 3.855), 1e3);
  }
  return out;
}

/** round(clip(normal(mean, sd) + slope * era, lo, hi), decimals) for every row. */
export function genNormalFeature(
  rng: Rng,
  era: Float64Array,
  mean: number,
  sd: number,
  slope: number,
  lo: number,
  hi: number,
  scale: number,
): Float64Array {
  const out = rng.fillNormal(new Float64Array(era.length), mean, sd);
  for (let i = 0; i < out.length; i++) out[i] = roundTo(clip(out[i]! + slope * era[i]!, lo, hi), scale);
  return out;
}

export function genInstrumentalness(rng: Rng, u: Float64Array): Float64Array {
  const v = drawWhere(
    below(rng.fillRandom(u), 0.68),
    (a) => rng.fillExponential(a, 0.002),
    (b) => rng.fillBeta(b, 0.8, 1.2),
  );
  for (let i = 0; i < v.length; i++) v[i] = clip(roundTo(v[i]!, 1e6), 0, 1);
  return v;
}

export function genLiveness(rng: Rng, n: number): Float64Array {
  const out = rng.fillNormal(new Float64Array(n), LN_015, 0.65); // lognormal = exp(normal)
  for (let i = 0; i < n; i++) out[i] = roundTo(clip(Math.exp(out[i]!), 0, 1), 1e4);
  return out;
}

export function genSpeechiness(rng: Rng, u: Float64Array): Float64Array {
  const v = drawWhere(
    below(rng.fillRandom(u), 0.05),
    (a) => rng.fillUniform(a, 0.66, 0.97),
    (b) => {
      rng.fillNormal(b, LN_005, 0.6);
      for (let i = 0; i < b.length; i++) b[i] = Math.exp(b[i]!);
    },
  );
  for (let i = 0; i < v.length; i++) v[i] = roundTo(clip(v[i]!, 0, 0.97), 1e4);
  return v;
}

export function genTempo(rng: Rng, u: Float64Array): Float64Array {
  const v = drawWhere(
    below(rng.fillRandom(u), 0.001),
    (a) => a.fill(0),
    (b) => {
      rng.fillNormal(b, 116.9, 30.7);
      for (let i = 0; i < b.length; i++) b[i] = clip(b[i]!, 30, 243.5);
    },
  );
  for (let i = 0; i < v.length; i++) v[i] = roundTo(v[i]!, 1e3);
  return v;
}

export function genDuration(rng: Rng, z: Float64Array): Int32Array {
  const out = new Int32Array(z.length);
  rng.fillNormal(z, LN_215000, 0.45);
  for (let i = 0; i < out.length; i++) out[i] = rint(clip(Math.exp(z[i]!), 5108, 5403500));
  return out;
}

export function genExplicit(rng: Rng, era: Float64Array, u: Float64Array): Int32Array {
  const out = new Int32Array(era.length);
  rng.fillRandom(u);
  for (let i = 0; i < out.length; i++) out[i] = u[i]! < clip(0.02 + 0.09 * (era[i]! + 1), 0, 0.4) ? 1 : 0;
  return out;
}

export function genBernoulli(rng: Rng, p: number, u: Float64Array): Int32Array {
  const out = new Int32Array(u.length);
  rng.fillRandom(u);
  for (let i = 0; i < out.length; i++) out[i] = u[i]! < p ? 1 : 0;
  return out;
}
