/** An append-only byte buffer that grows by doubling; `bytes()` is a view of what was written. */
export class ByteWriter {
  private buf: Uint8Array;
  private dataView: DataView;
  length = 0;

  constructor(initialCapacity = 1 << 16) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity));
    this.dataView = new DataView(this.buf.buffer);
  }

  /** A DataView of the buffer `reserve` last returned (for writing several bytes at once). */
  get view(): DataView {
    return this.dataView;
  }

  /** Makes room for `n` more bytes and returns the buffer to write them into at `length`. */
  reserve(n: number): Uint8Array {
    if (this.length + n > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < this.length + n) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
      this.dataView = new DataView(next.buffer);
    }
    return this.buf;
  }

  push(bytes: Uint8Array): void {
    this.reserve(bytes.length).set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Appends an ASCII string (callers guarantee every char is < 0x80). */
  ascii(s: string): void {
    const b = this.reserve(s.length);
    for (let i = 0; i < s.length; i++) b[this.length + i] = s.charCodeAt(i);
    this.length += s.length;
  }

  /** Appends a non-negative integer in decimal. */
  uint(n: number): void {
    this.ascii(String(n));
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}
