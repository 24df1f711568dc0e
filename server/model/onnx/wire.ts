/**
 * The protobuf wire format, as much of it as segstream needs to walk and edit ONNX files without decoding
 * their weights: a bounds-checked cursor over one message, and the two encoders (varint, length-delimited
 * field) needed to splice messages back together.
 */

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

/** A malformed protobuf; callers turn it into an error that names the file. */
export class ProtoFormatError extends Error {}

const textDecoder = new TextDecoder('utf-8', { fatal: false });

export function decodeText(bytes: Uint8Array): string {
  return textDecoder.decode(bytes);
}

/** A bounds-checked protobuf wire-format cursor over one message. */
export class ProtoCursor {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint read as a signed 64-bit value (exact up to 2^53). */
  varint(): number {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoFormatError(`truncated varint at byte ${this.pos}`);
      const b = this.buf[this.pos++];
      if (b === undefined) throw new ProtoFormatError(`truncated varint at byte ${this.pos - 1}`);
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if ((b & 0x80) === 0) return (hi | 0) * 4294967296 + (lo >>> 0);
    }
    throw new ProtoFormatError(`varint longer than 10 bytes at byte ${this.pos}`);
  }

  tag(): { field: number; wire: number } {
    const at = this.pos;
    const t = this.varint();
    const field = Math.floor(t / 8);
    const wire = t & 7;
    if (field <= 0 || wire === 3 || wire === 4 || wire > 5) {
      throw new ProtoFormatError(`invalid protobuf tag ${t} (field ${field}, wire type ${wire}) at byte ${at}`);
    }
    return { field, wire };
  }

  /** Bounds of a length-delimited field's payload; the cursor moves past it. */
  span(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    if (len < 0 || start + len > this.end) {
      throw new ProtoFormatError(`length ${len} at byte ${start} runs past the end of its message (byte ${this.end})`);
    }
    this.pos = start + len;
    return [start, start + len];
  }

  string(): string {
    const [s, e] = this.span();
    return decodeText(this.buf.subarray(s, e));
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_I64:
        this.advance(8);
        return;
      case WIRE_LEN:
        this.span();
        return;
      case WIRE_I32:
        this.advance(4);
        return;
      default:
        throw new ProtoFormatError(`cannot skip wire type ${wire} at byte ${this.pos}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new ProtoFormatError(`truncated field at byte ${this.pos}`);
    this.pos += n;
  }
}

export function expectWire(message: string, field: number, wire: number, expected: number, at: number): void {
  if (wire !== expected) {
    throw new ProtoFormatError(`${message} field ${field} has wire type ${wire} at byte ${at}, ONNX declares wire type ${expected}`);
  }
}

/** The first string field `field` of the message in buf[start, end), or '' when absent. */
export function stringField(buf: Uint8Array, start: number, end: number, field: number): string {
  const c = new ProtoCursor(buf, start, end);
  while (!c.done) {
    const t = c.tag();
    if (t.field === field && t.wire === WIRE_LEN) return c.string();
    c.skip(t.wire);
  }
  return '';
}

export function encodeVarint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`encodeVarint: expected a non-negative safe integer, got ${value}`);
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

/** Tag + length + payload of one length-delimited field. */
export function lengthDelimited(field: number, payload: Uint8Array): Uint8Array[] {
  return [encodeVarint(field * 8 + WIRE_LEN), encodeVarint(payload.length), payload];
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
