/**
 * A minimal reader for the Thrift compact protocol, enough to decode Parquet's FileMetaData.
 * Structs decode generically into `ThriftStruct` (field id → value) so unknown or future fields
 * are skipped safely; the caller picks the fields it knows.
 */

export type ThriftValue = number | boolean | Uint8Array | ThriftValue[] | ThriftStruct;
export type ThriftStruct = Map<number, ThriftValue>;

const enum T {
  Stop = 0,
  True = 1,
  False = 2,
  Byte = 3,
  I16 = 4,
  I32 = 5,
  I64 = 6,
  Double = 7,
  Binary = 8,
  List = 9,
  Set = 10,
  Map = 11,
  Struct = 12,
}

/** Raised when the bytes are not a well-formed compact-protocol struct. */
export class ThriftError extends Error {
  override name = 'ThriftError';
}

const MAX_DEPTH = 64;

/**
 * The fields of a struct to decode, by id: `true` for the whole value, a nested Pick for a struct
 * or a list of structs. Fields not named are skipped without being built (still checked for
 * shape): a footer of thousands of row groups is mostly statistics nobody here reads.
 */
export interface Pick {
  readonly [id: number]: true | Pick;
}

/** Decodes one struct starting at `offset` (only the `pick`ed fields, if given); throws ThriftError on malformed or truncated input. */
export function readStruct(bytes: Uint8Array, offset = 0, pick?: Pick): { value: ThriftStruct; end: number } {
  const r = new Reader(bytes, offset);
  const value = r.struct(0, pick);
  return { value, end: r.pos };
}

class Reader {
  private readonly view: DataView;
  constructor(
    private readonly bytes: Uint8Array,
    public pos: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private byte(): number {
    if (this.pos >= this.bytes.length) throw new ThriftError('unexpected end of metadata');
    return this.bytes[this.pos++]!;
  }

  /** Unsigned varint as a double: exact up to 2^53, which covers every offset and count. */
  private varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new ThriftError('varint too long');
  }

  private zigzag(): number {
    const n = this.varint();
    // n is even for non-negative values; avoid 32-bit bit ops so 64-bit values stay exact.
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  private value(type: number, depth: number, pick?: Pick): ThriftValue {
    switch (type) {
      case T.True:
        return true;
      case T.False:
        return false;
      case T.Byte: {
        const b = this.byte();
        return b > 127 ? b - 256 : b;
      }
      case T.I16:
      case T.I32:
      case T.I64:
        return this.zigzag();
      case T.Double: {
        if (this.pos + 8 > this.bytes.length) throw new ThriftError('unexpected end of metadata');
        const d = this.view.getFloat64(this.pos, true);
        this.pos += 8;
        return d;
      }
      case T.Binary: {
        const len = this.varint();
        if (this.pos + len > this.bytes.length) throw new ThriftError('unexpected end of metadata');
        const out = this.bytes.subarray(this.pos, this.pos + len);
        this.pos += len;
        return out;
      }
      case T.List:
      case T.Set:
        return this.list(depth, pick);
      case T.Map:
        return this.map(depth);
      case T.Struct:
        return this.struct(depth + 1, pick);
      default:
        throw new ThriftError(`unknown field type ${type}`);
    }
  }

  /** Moves past a value without building it. */
  private skip(type: number, depth: number): void {
    switch (type) {
      case T.True:
      case T.False:
        return;
      case T.Byte:
        this.byte();
        return;
      case T.I16:
      case T.I32:
      case T.I64:
        this.varint();
        return;
      case T.Double:
      case T.Binary: {
        const len = type === T.Double ? 8 : this.varint();
        if (this.pos + len > this.bytes.length) throw new ThriftError('unexpected end of metadata');
        this.pos += len;
        return;
      }
      case T.List:
      case T.Set: {
        const header = this.byte();
        const size = header >> 4 === 15 ? this.varint() : header >> 4;
        const elem = header & 0x0f;
        if (size > this.bytes.length - this.pos) throw new ThriftError('list longer than the metadata');
        for (let i = 0; i < size; i++) {
          if (elem === T.True || elem === T.False) this.byte();
          else this.skip(elem, depth);
        }
        return;
      }
      case T.Map: {
        const size = this.varint();
        if (size === 0) return;
        const types = this.byte();
        for (let i = 0; i < size; i++) {
          this.skip(types >> 4, depth);
          this.skip(types & 0x0f, depth);
        }
        return;
      }
      case T.Struct: {
        if (depth + 1 > MAX_DEPTH) throw new ThriftError('metadata nested too deeply');
        for (;;) {
          const header = this.byte();
          const t = header & 0x0f;
          if (t === T.Stop) return;
          if (header >> 4 === 0) this.varint();
          this.skip(t, depth + 1);
        }
      }
      default:
        throw new ThriftError(`unknown field type ${type}`);
    }
  }

  private list(depth: number, pick?: Pick): ThriftValue[] {
    const header = this.byte();
    const size = header >> 4 === 15 ? this.varint() : header >> 4;
    const elem = header & 0x0f;
    if (size > this.bytes.length - this.pos) throw new ThriftError('list longer than the metadata');
    const out: ThriftValue[] = new Array(size);
    for (let i = 0; i < size; i++) {
      // Booleans inside containers are a whole byte, not folded into the type nibble.
      out[i] = elem === T.True || elem === T.False ? this.byte() === 1 : this.value(elem, depth, pick);
    }
    return out;
  }

  private map(depth: number): ThriftValue[] {
    const size = this.varint();
    if (size === 0) return [];
    const types = this.byte();
    const out: ThriftValue[] = [];
    for (let i = 0; i < size; i++) {
      out.push([this.value(types >> 4, depth), this.value(types & 0x0f, depth)]);
    }
    return out;
  }

  struct(depth: number, pick?: Pick): ThriftStruct {
    if (depth > MAX_DEPTH) throw new ThriftError('metadata nested too deeply');
    const out: ThriftStruct = new Map();
    let last = 0;
    for (;;) {
      const header = this.byte();
      const type = header & 0x0f;
      if (type === T.Stop) return out;
      const delta = header >> 4;
      const id = delta === 0 ? this.zigzag() : last + delta;
      last = id;
      const want = pick === undefined ? true : pick[id];
      if (want === undefined) {
        // Booleans live in the type nibble: nothing to skip.
        this.skip(type, depth);
        continue;
      }
      out.set(id, this.value(type, depth, want === true ? undefined : want));
    }
  }
}
