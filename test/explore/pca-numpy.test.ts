/** The map's PCA against numpy's (np.linalg.eigh of the same covariance) over the 5k reference vectors: test/explore/fixtures/make_pca.py. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fitPca, project } from '../../lib/explore/pca.ts';

const NPY = join(import.meta.dirname, '..', 'fixtures', 'tracks-5k.reference', 'spotify_vectors_14d.npy');
const numpy = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'pca-5k.numpy.json'), 'utf8')) as {
  eigenvalues: number[];
  components: number[][];
  first5: number[][];
};

/** The reference's .npy (saved Fortran-ordered, float32), as row-major rows. */
function fortranNpy(bytes: Buffer): { cols: number; data: Float32Array } {
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
  const [, r, c] = /'shape': \((\d+), (\d+)\)/.exec(header)!;
  const rows = Number(r);
  const cols = Number(c);
  expect(header).toContain("'fortran_order': True");
  const column = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 10 + headerLength, bytes.byteOffset + bytes.byteLength));
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let d = 0; d < cols; d++) data[i * cols + d] = column[d * rows + i]!;
  return { cols, data };
}

describe('PCA of the 5k reference vectors', () => {
  const { cols, data } = fortranNpy(readFileSync(NPY));
  const pca = fitPca(data, cols);

  it('has numpy’s eigenvalues', () => {
    numpy.eigenvalues.forEach((v, k) => expect(Math.abs(pca.eigenvalues[k]! - v)).toBeLessThan(1e-9 * Math.max(1, v)));
  });

  it('has numpy’s two leading components, with the same sign convention', () => {
    numpy.components.forEach((comp, c) => comp.forEach((v, d) => expect(pca.components[c * cols + d]).toBeCloseTo(v, 9)));
  });

  it('puts the first rows where numpy does', () => {
    const xy = project(pca, data, Int32Array.of(0, 1, 2, 3, 4));
    numpy.first5.forEach(([x, y], i) => {
      expect(xy[2 * i]).toBeCloseTo(x!, 4);
      expect(xy[2 * i + 1]).toBeCloseTo(y!, 4);
    });
  });
});
