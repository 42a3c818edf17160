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

/**
 * Fields to leave out when rewriting a struct, by id: `true` drops the field, a nested Drop
 * descends into a struct or a list of structs. Everything else is copied byte for byte.
 */
export interface Drop {
  readonly [id: number]: true | Drop;
}

/**
 * Re-encodes the struct at `offset` without the dropped fields: the same bytes otherwise (field
 * headers are rewritten, as compact-protocol field ids are deltas from the previous field).
 */
export function rewriteStruct(bytes: Uint8Array, drop: Drop, offset = 0): Uint8Array {
  const r = new Reader(bytes, offset);
  const out = new Uint8Array(bytes.length - offset);
  const end = r.rewrite(0, drop, out, 0);
  return out.subarray(0, end);
}

/** One field of a struct as encoded: its id, its compact type, and its value's bytes. */
export interface RawField {
  id: number;
  type: number;
  value: Uint8Array;
}

/** The type nibble of a struct, as RawField.type and list element types carry it. */
export const STRUCT_TYPE = T.Struct;
/** The type nibble of an i64 field. */
export const I64_TYPE = T.I64;
/** The type nibble of a list field. */
export const LIST_TYPE = T.List;

/** The top-level fields of the struct at `offset`, each with its value's bytes (views into `bytes`). */
export function structFields(bytes: Uint8Array, offset = 0): RawField[] {
  return new Reader(bytes, offset).fields();
}

/** The elements of an encoded list value (views into `value`): each element's bytes. */
export function listElements(value: Uint8Array): Uint8Array[] {
  return new Reader(value, 0).elements();
}

/** A struct from raw fields, in the order given (compact field headers, a stop byte). */
export function encodeStruct(fields: readonly RawField[]): Uint8Array {
  const out = new Uint8Array(fields.reduce((n, f) => n + f.value.length + 4, 1));
  let at = 0;
  let last = 0;
  for (const f of fields) {
    at = fieldHeader(out, at, f.id, f.type, last);
    last = f.id;
    out.set(f.value, at);
    at += f.value.length;
  }
  out[at++] = 0;
  return out.subarray(0, at);
}

/** A list value of `elements` (already encoded) of compact type `elemType`. */
export function encodeList(elemType: number, elements: readonly Uint8Array[]): Uint8Array {
  const head: number[] = [];
  if (elements.length < 15) head.push((elements.length << 4) | elemType);
  else {
    head.push(0xf0 | elemType);
    pushVarint(head, elements.length);
  }
  const out = new Uint8Array(head.length + elements.reduce((n, e) => n + e.length, 0));
  out.set(head);
  let at = head.length;
  for (const e of elements) {
    out.set(e, at);
    at += e.length;
  }
  return out;
}

/** A non-negative integer as an i64 value (zigzag varint). */
export function encodeI64(n: number): Uint8Array {
  const out: number[] = [];
  pushVarint(out, n * 2);
  return Uint8Array.from(out);
}

function pushVarint(out: number[], n: number): void {
  // Division, not shifts: values past 2^31 stay exact.
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
}

/** Writes a field header for `id` after field `last` at `at`; returns where it ends. */
function fieldHeader(out: Uint8Array, at: number, id: number, type: number, last: number): number {
  if (id > last && id - last <= 15) {
    out[at++] = ((id - last) << 4) | type;
    return at;
  }
  out[at++] = type;
  for (let z = id >= 0 ? id * 2 : -id * 2 - 1; ; z >>>= 7) {
    if (z < 0x80) {
      out[at++] = z;
      return at;
    }
    out[at++] = (z & 0x7f) | 0x80;
  }
}

class Reader {
  private readonly view: DataView;
  /** The last field header read (nextField). */
  private fieldId = 0;
  private fieldType = 0;
  /** The last list header read (listHeader). */
  private listSize = 0;
  private listElem = 0;
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

  /** The struct's fields with their values' bytes. */
  fields(): RawField[] {
    const out: RawField[] = [];
    let last = 0;
    while (this.nextField(last)) {
      const { fieldId: id, fieldType: type } = this;
      last = id;
      const start = this.pos;
      this.skip(type, 0);
      out.push({ id, type, value: this.bytes.subarray(start, this.pos) });
    }
    return out;
  }

  /** A list's elements' bytes. */
  elements(): Uint8Array[] {
    this.listHeader();
    const { listSize: size, listElem: elem } = this;
    const out: Uint8Array[] = new Array(size);
    for (let i = 0; i < size; i++) {
      const start = this.pos;
      if (elem === T.True || elem === T.False) this.byte();
      else this.skip(elem, 0);
      out[i] = this.bytes.subarray(start, this.pos);
    }
    return out;
  }

  /** Copies the struct at `pos` into `out` at `at` without the dropped fields; returns where `out` ends. */
  rewrite(depth: number, drop: Drop, out: Uint8Array, at: number): number {
    if (depth > MAX_DEPTH) throw new ThriftError('metadata nested too deeply');
    let last = 0;
    let lastOut = 0;
    while (this.nextField(last)) {
      const { fieldId: id, fieldType: type } = this;
      last = id;
      const rule = drop[id];
      if (rule === true) {
        this.skip(type, depth);
        continue;
      }
      at = fieldHeader(out, at, id, type, lastOut);
      lastOut = id;
      if (rule !== undefined && type === T.Struct) {
        at = this.rewrite(depth + 1, rule, out, at);
      } else if (rule !== undefined && (type === T.List || type === T.Set)) {
        const start = this.pos;
        this.listHeader();
        const size = this.listSize;
        at = this.copy(start, out, at);
        if (this.listElem !== T.Struct) throw new ThriftError(`field ${id} is not a list of structs`);
        for (let i = 0; i < size; i++) at = this.rewrite(depth + 1, rule, out, at);
      } else {
        const start = this.pos;
        this.skip(type, depth);
        at = this.copy(start, out, at);
      }
    }
    out[at++] = 0;
    return at;
  }

  /** Copies the bytes from `start` to the read position into `out` at `at`; returns where `out` ends. */
  private copy(start: number, out: Uint8Array, at: number): number {
    const bytes = this.bytes;
    const end = this.pos;
    // Most values are a few bytes: a loop beats a subarray and a set each.
    if (end - start > 64) out.set(bytes.subarray(start, end), at);
    else for (let i = start; i < end; i++) out[at + i - start] = bytes[i]!;
    return at + end - start;
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
        this.listHeader();
        const { listSize: size, listElem: elem } = this;
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
        while (this.nextField(0)) this.skip(this.fieldType, depth + 1);
        return;
      }
      default:
        throw new ThriftError(`unknown field type ${type}`);
    }
  }

  private list(depth: number, pick?: Pick): ThriftValue[] {
    this.listHeader();
    const { listSize: size, listElem: elem } = this;
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
    while (this.nextField(last)) {
      const { fieldId: id, fieldType: type } = this;
      last = id;
      const want = pick === undefined ? true : pick[id];
      if (want === undefined) {
        // Booleans live in the type nibble: nothing to skip.
        this.skip(type, depth);
        continue;
      }
      out.set(id, this.value(type, depth, want === true ? undefined : want));
    }
    return out;
  }

  /**
   * Reads a field header after field `last`: false at the struct's stop byte, else true with
   * `fieldId` and `fieldType` set (no object per field: footers hold millions of them).
   */
  private nextField(last: number): boolean {
    const header = this.byte();
    this.fieldType = header & 0x0f;
    if (this.fieldType === T.Stop) return false;
    const delta = header >> 4;
    this.fieldId = delta === 0 ? this.zigzag() : last + delta;
    return true;
  }

  /** Reads a list header: sets `listSize` and `listElem`; refuses a size the bytes cannot hold. */
  private listHeader(): void {
    const header = this.byte();
    this.listSize = header >> 4 === 15 ? this.varint() : header >> 4;
    this.listElem = header & 0x0f;
    if (this.listSize > this.bytes.length - this.pos) throw new ThriftError('list longer than the metadata');
  }
}
