/** The .npy header numpy.save writes for a C-ordered float32 matrix (version 1.0, padded to 64 bytes). */
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ALIGN = 64;
/** numpy leaves room to grow the first axis in place: the header is padded as if it had 21 digits. */
const GROWTH_AXIS_MAX_DIGITS = 21;

/**
 * The .npy v1.0 header numpy.save writes for a C-ordered little-endian float32 array of
 * shape (rows, cols): dict, growth padding, spaces to a multiple of 64 bytes, then '\n'.
 */
export function npyHeader(rows: number, cols: number): Uint8Array {
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  dict += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(rows).length));
  const hlen = dict.length + 1;
  const pad = ALIGN - ((MAGIC.length + 2 + 2 + hlen) % ALIGN);
  const total = MAGIC.length + 4 + hlen + pad;
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = 1; // major
  out[7] = 0; // minor
  new DataView(out.buffer).setUint16(8, hlen + pad, true);
  for (let i = 0; i < dict.length; i++) out[10 + i] = dict.charCodeAt(i);
  out.fill(0x20, 10 + dict.length, total - 1);
  out[total - 1] = 0x0a;
  return out;
}
