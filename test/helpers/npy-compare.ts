/** Loads a float32 C- or Fortran-ordered .npy file and compares matrices bit by bit, as the parity bar needs. */
import { readFileSync } from 'node:fs';

export interface Matrix {
  rows: number;
  cols: number;
  /** Row-major values. */
  data: Float32Array;
}

/** Reads a little-endian float32 2-D .npy (v1/v2), converting Fortran order to row-major. */
export function loadNpy(path: string): Matrix {
  const buf = readFileSync(path);
  const major = buf[6]!;
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLen;
  const header = buf.subarray(major === 1 ? 10 : 12, start).toString('latin1');
  if (!header.includes("'descr': '<f4'")) throw new Error(`${path}: not float32: ${header}`);
  const shape = /'shape': \((\d+), (\d+)\)/.exec(header);
  if (!shape) throw new Error(`${path}: not 2-D: ${header}`);
  const rows = Number(shape[1]);
  const cols = Number(shape[2]);
  const raw = new Float32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + start + rows * cols * 4));
  if (!header.includes("'fortran_order': True")) return { rows, cols, data: raw };
  const data = new Float32Array(rows * cols);
  for (let c = 0; c < cols; c++) for (let r = 0; r < rows; r++) data[r * cols + c] = raw[c * rows + r]!;
  return { rows, cols, data };
}

export interface Parity {
  elements: number;
  identical: number;
  maxUlp: number;
  /** The first element that is not bit-identical, if any. */
  firstDifference: { row: number; col: number; got: number; want: number; ulp: number } | null;
}

/** Compares two matrices element by element; NaN equals NaN; distance in float32 ulps. */
export function compare(got: Matrix, want: Matrix): Parity {
  if (got.rows !== want.rows || got.cols !== want.cols) {
    throw new Error(`shape (${got.rows}, ${got.cols}) differs from the reference's (${want.rows}, ${want.cols})`);
  }
  const a = new Int32Array(got.data.buffer, got.data.byteOffset, got.data.length);
  const b = new Int32Array(want.data.buffer, want.data.byteOffset, want.data.length);
  let identical = 0;
  let maxUlp = 0;
  let firstDifference: Parity['firstDifference'] = null;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i] || (Number.isNaN(got.data[i]) && Number.isNaN(want.data[i]))) {
      identical++;
      continue;
    }
    // Map sign-magnitude float bits onto a monotonic integer line so the difference counts ulps.
    const ord = (x: number) => (x < 0 ? -2147483648 - x : x);
    const ulp = Number.isNaN(got.data[i]) || Number.isNaN(want.data[i]) ? Infinity : Math.abs(ord(a[i]!) - ord(b[i]!));
    maxUlp = Math.max(maxUlp, ulp);
    firstDifference ??= { row: Math.floor(i / got.cols), col: i % got.cols, got: got.data[i]!, want: want.data[i]!, ulp };
  }
  return { elements: a.length, identical, maxUlp, firstDifference };
}

/** Throws with the first difference named unless ≥ 99.9 % are bit-identical and none is more than 1 ulp off. */
export function assertParity(gotPath: string, wantPath: string): Parity {
  const p = compare(loadNpy(gotPath), loadNpy(wantPath));
  const share = p.identical / p.elements;
  if (share < 0.999 || p.maxUlp > 1) {
    const d = p.firstDifference!;
    throw new Error(
      `${gotPath}: ${(share * 100).toFixed(3)} % bit-identical, max ${p.maxUlp} ulp; first difference at row ${d.row}, column ${d.col}: ${d.got} vs reference ${d.want} (${d.ulp} ulp)`,
    );
  }
  return p;
}
