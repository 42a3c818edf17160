/** Python's `float.hex()` text back to the number: '-0x1.8p+1', 'nan', 'inf', '-inf'. */
export function fromFloatHex(text: string): number {
  if (text === 'nan') return NaN;
  if (/^-?inf$/.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  const m = /^(-?)0x([01])\.([0-9a-f]+)p([+-]\d+)$/.exec(text);
  if (!m) throw new Error(`not a float hex: ${text}`);
  const value = Number(BigInt(`0x${m[2]}${m[3]}`)) * 2 ** (Number(m[4]) - 4 * m[3]!.length);
  return m[1] ? -value : value;
}

/** A float64's bits as 16 hex digits (distinguishes -0 and NaN payloads), for readable diffs. */
export function bitsOf(v: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  return view.getBigUint64(0).toString(16).padStart(16, '0');
}
