/** The adversarial parity fixtures (test/fixtures/make_adversarial.py) and what the reference gives for each. */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { fixture } from './tmp.ts';

export interface Expected {
  /** SHA-256 of the reference's vectors in C order. */
  vectorsSha256: string;
  mappingSha256: string;
  /** The reference's StandardScaler mean_ and scale_, as Python's float.hex(). */
  mean: string[];
  scale: string[];
}

export const ADVERSARIAL = readdirSync(fixture('adversarial'))
  .filter((f) => f.endsWith('.parquet'))
  .map((f) => f.replace(/\.parquet$/, ''));

export const expectedFor = (name: string) => JSON.parse(readFileSync(fixture('adversarial', `${name}.expected.json`), 'utf8')) as Expected;

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The digest of an .npy's values: everything after its header (ours is C-ordered). */
export function vectorsDigest(npy: Uint8Array): string {
  const headerLength = 10 + (npy[8]! | (npy[9]! << 8));
  return sha256(npy.subarray(headerLength));
}
