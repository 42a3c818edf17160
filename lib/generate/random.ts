/**
 * A small, fast, seedable pseudo-random number generator (xoshiro128**, seeded through
 * splitmix32) with the handful of distributions the tracks generator needs.
 *
 * Not bit-compatible with numpy's PCG64: the same seed gives the same numbers on every run
 * and platform of this implementation, and the distributions match numpy's definitions
 * (`uniform`, `integers` with exclusive upper bound, `normal`, `lognormal`, `exponential`
 * with a scale, `gamma` with a shape and unit scale, `beta`).
 */

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;
const TWO_POW_MINUS_31 = 1 / 2147483648;
const SMALL_RANGE = 2097152; // 2^21: ranges where uint32 * range is exact in a double

/** One splitmix32 step: returns the next state and a well-mixed 32-bit output. */
function splitmix32(state: number): [next: number, out: number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  z ^= z >>> 15;
  return [next, z >>> 0];
}

/** Deterministic seedable PRNG (xoshiro128**) with numpy-like distribution methods. */
export class Rng {
  // State lives in typed arrays: 32-bit words kept in object fields would be boxed as heap
  // numbers by V8 (they exceed the small-integer range) and allocate on every step.
  private readonly s = new Int32Array(4);
  private readonly spare = new Float64Array(1);
  /** The two deviates of the last accepted polar-method pair. */
  private readonly pair = new Float64Array(2);
  private hasSpareNormal = false;

  /**
   * Seeds the generator from `seed` (any safe non-negative integer) and an optional `stream`
   * number (any safe non-negative integer), so that `(seed, stream)` pairs give independent sequences.
   */
  constructor(seed: number, stream = 0) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative safe integer, got ${seed}`);
    if (!Number.isSafeInteger(stream) || stream < 0) throw new RangeError(`stream must be a non-negative safe integer, got ${stream}`);
    // Fold the 53-bit seed and stream into a splitmix32 state, mixing between words.
    let st = 0x6a09e667 | 0;
    let out: number;
    for (const word of [seed >>> 0, Math.floor(seed / TWO_POW_32) >>> 0, stream >>> 0, Math.floor(stream / TWO_POW_32) >>> 0]) {
      [st, out] = splitmix32(st ^ word);
      st = (st ^ out) | 0;
    }
    for (let i = 0; i < 4; i++) {
      [st, out] = splitmix32(st);
      this.s[i] = out;
    }
    if ((this.s[0]! | this.s[1]! | this.s[2]! | this.s[3]!) === 0) this.s[0] = 1; // the all-zero state is a fixed point
  }

  /** Next raw 32-bit output as an unsigned integer in [0, 2^32). */
  uint32(): number {
    const s = this.s;
    const s0 = s[0]!,
      s1 = s[1]!,
      s2 = s[2]!,
      s3 = s[3]!;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    s[1] = s1 ^ n2;
    s[0] = s0 ^ n3;
    s[2] = n2 ^ t;
    s[3] = (n3 << 11) | (n3 >>> 21);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits (numpy `random()`). */
  random(): number {
    const hi = this.uint32() >>> 5; // 27 bits
    const lo = this.uint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / TWO_POW_53;
  }

  /** Uniform double in [low, high) (numpy `uniform(low, high)`). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.random();
  }

  /** Unbiased integer in [low, high), high exclusive as in numpy `integers`; the range must fit in 32 bits. */
  integers(low: number, high: number): number {
    const range = high - low;
    if (range > 0 && range <= SMALL_RANGE && (range | 0) === range) {
      // Lemire's multiply-and-reject: x * range is exact in a double for range <= 2^21.
      let p = this.uint32() * range;
      let hi = Math.floor(p / TWO_POW_32);
      let lo = p - hi * TWO_POW_32;
      if (lo < range) {
        const threshold = (TWO_POW_32 - range) % range; // 2^32 mod range
        while (lo < threshold) {
          p = this.uint32() * range;
          hi = Math.floor(p / TWO_POW_32);
          lo = p - hi * TWO_POW_32;
        }
      }
      return low + hi;
    }
    if (!(range > 0 && range <= TWO_POW_32 && Number.isInteger(range))) {
      throw new RangeError(`integers(${low}, ${high}): empty range or wider than 2^32`);
    }
    if (range === TWO_POW_32) return low + this.uint32();
    const limit = TWO_POW_32 - (TWO_POW_32 % range);
    let x = this.uint32();
    while (x >= limit) x = this.uint32();
    return low + (x % range);
  }

  /** Fills `out` with uniform doubles in [0, 1) and returns it. */
  fillRandom(out: Float64Array): Float64Array {
    for (let i = 0; i < out.length; i++) out[i] = this.random();
    return out;
  }

  /** Fills `out` with uniform doubles in [low, high) and returns it. */
  fillUniform(out: Float64Array, low: number, high: number): Float64Array {
    for (let i = 0; i < out.length; i++) out[i] = low + (high - low) * this.random();
    return out;
  }

  /** Fills `out` with exponential deviates of the given scale and returns it. */
  fillExponential(out: Float64Array, scale: number): Float64Array {
    for (let i = 0; i < out.length; i++) out[i] = -scale * Math.log(1 - this.random());
    return out;
  }

  /** Fills `out` with Beta(a, b) deviates and returns it. */
  fillBeta(out: Float64Array, a: number, b: number): Float64Array {
    for (let i = 0; i < out.length; i++) out[i] = this.beta(a, b);
    return out;
  }

  /** Fills `out` with integers in [low, high) and returns it. */
  fillIntegers(out: Int32Array, low: number, high: number): Int32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.integers(low, high);
    return out;
  }

  /** Fills `out` with normal deviates of the given mean and standard deviation and returns it. */
  fillNormal(out: Float64Array, mean = 0, sd = 1): Float64Array {
    const n = out.length;
    let i = 0;
    if (this.hasSpareNormal && n > 0) out[i++] = mean + sd * this.standardNormal();
    // Polar method, two deviates per accepted pair; the odd one out is cached as usual.
    while (i + 1 < n) {
      this.polarPair();
      out[i++] = mean + sd * this.pair[0]!;
      out[i++] = mean + sd * this.pair[1]!;
    }
    if (i < n) out[i] = mean + sd * this.standardNormal();
    return out;
  }

  /** Standard normal deviate (Marsaglia polar method, caching the second deviate). */
  standardNormal(): number {
    if (this.hasSpareNormal) {
      this.hasSpareNormal = false;
      return this.spare[0]!;
    }
    this.polarPair();
    this.spare[0] = this.pair[1]!;
    this.hasSpareNormal = true;
    return this.pair[0]!;
  }

  /** Draws one accepted pair of the Marsaglia polar method into `pair`. */
  private polarPair(): void {
    let u: number, v: number, s: number;
    do {
      // 32-bit coordinates in (-1, 1) are plenty for the polar method and twice as cheap.
      u = (this.uint32() + 0.5) * TWO_POW_MINUS_31 - 1;
      v = (this.uint32() + 0.5) * TWO_POW_MINUS_31 - 1;
      s = u * u + v * v;
    } while (s >= 1);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.pair[0] = u * f;
    this.pair[1] = v * f;
  }

  /** Normal deviate with the given mean and standard deviation (numpy `normal(loc, scale)`). */
  normal(mean: number, sd: number): number {
    return mean + sd * this.standardNormal();
  }

  /** exp of a normal deviate with mean `mu` and sd `sigma` of the underlying normal (numpy `lognormal`). */
  lognormal(mu: number, sigma: number): number {
    return Math.exp(mu + sigma * this.standardNormal());
  }

  /** Exponential deviate with the given scale, i.e. mean (numpy `exponential(scale)`). */
  exponential(scale: number): number {
    return -scale * Math.log(1 - this.random()); // 1 - U lies in (0, 1], so the log is finite
  }

  /** Gamma deviate with the given shape and unit scale (Marsaglia–Tsang; shape < 1 boosted by U^(1/shape)). */
  gamma(shape: number): number {
    if (!(shape > 0)) throw new RangeError(`gamma shape must be > 0, got ${shape}`);
    let boost = 1;
    if (shape < 1) {
      // Gamma(a) = Gamma(a + 1) * U^(1/a), with U drawn from (0, 1].
      boost = Math.exp(Math.log(1 - this.random()) / shape);
      shape += 1;
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number, v: number;
      do {
        x = this.standardNormal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.random();
      const x2 = x * x;
      if (u < 1 - 0.0331 * x2 * x2) return boost * d * v;
      if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return boost * d * v;
    }
  }

  /** Beta(a, b) deviate as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). */
  beta(a: number, b: number): number {
    for (;;) {
      const x = this.gamma(a);
      const y = this.gamma(b);
      const sum = x + y;
      if (sum > 0) return x / sum; // both underflowing to 0 is possible only for tiny shapes
    }
  }
}
