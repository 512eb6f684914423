/**
 * An output buffer for the row formatters: rows are written as bytes (ASCII
 * numbers, UTF-8 text with the format's escaping) into one growing buffer that the
 * caller drains in large chunks. Avoids building a JS string per row.
 */
const NEEDS_JSON_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
const HEX = '0123456789abcdef';

/**
 * A pre-encoded constant (a JSON key, punctuation) whose storage is padded to whole
 * 32-bit words, so it can be copied a word at a time.
 */
export class ConstBytes {
  readonly length: number;
  readonly words: number;
  /** The bytes as little-endian 32-bit values (written back with setUint32(…, true): the same bytes on any platform). */
  readonly u32: Uint32Array;

  constructor(text: string) {
    this.length = text.length;
    this.words = Math.ceil(text.length / 4);
    const dv = new DataView(new ArrayBuffer(this.words * 4));
    for (let i = 0; i < text.length; i++) dv.setUint8(i, text.charCodeAt(i) & 0xff);
    this.u32 = Uint32Array.from({ length: this.words }, (_, i) => dv.getUint32(4 * i, true));
  }
}

/** Writes constant c at dv[p..] (room ensured, 4 bytes of slack); returns the offset after it. */
export function putConstant(dv: DataView, p: number, c: ConstBytes): number {
  const u = c.u32;
  for (let i = 0; i < u.length; i++) dv.setUint32(p + 4 * i, u[i]!, true);
  return p + c.length;
}

/** Copies n bytes at dv[from..] to dv[p..], a word at a time (room ensured, 4 bytes of slack; no overlap); returns p + n. */
export function copyWords(dv: DataView, p: number, from: number, n: number): number {
  for (let i = 0; i < n; i += 4) dv.setUint32(p + i, dv.getUint32(from + i, true), true);
  return p + n;
}

/** Epochs are unique across writers: the repeat caches are module-wide, and a second writer must not match the first's. */
let lastEpoch = 0;

export class ByteWriter {
  buf: Buffer;
  /** The same bytes as `buf`, for word-sized copies. */
  dv: DataView;
  pos = 0;
  /**
   * Changes whenever earlier bytes stop being readable at their offsets (a new
   * buffer, or a rewind to reuse this one): caches of "bytes written at offset x"
   * (format-jsonl's repeats) are valid only within one epoch.
   */
  epoch = ++lastEpoch;

  constructor(capacity = 1 << 22) {
    this.buf = Buffer.allocUnsafe(capacity);
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** Makes room for `n` more bytes (and 4 bytes of slack for word copies). */
  ensure(n: number): void {
    if (this.pos + n + 4 <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n + 4));
    this.buf.copy(next, 0, 0, this.pos);
    this.setBuffer(next);
  }

  /** Starts over in the same buffer (the caller is done with the bytes written). */
  rewind(): void {
    this.pos = 0;
    this.epoch = ++lastEpoch;
  }

  private setBuffer(buf: Buffer): void {
    this.epoch = ++lastEpoch;
    this.buf = buf;
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** Takes the bytes written so far (a copy-free view valid until the next write) and resets. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.setBuffer(Buffer.allocUnsafe(this.buf.length));
    this.pos = 0;
    return out;
  }

  /** A constant, copied a word at a time (the bytes past its end are scratch). */
  constant(c: ConstBytes): void {
    this.ensure(c.words * 4);
    this.pos = putConstant(this.dv, this.pos, c);
  }

  /** Copies `n` bytes written earlier at `from` to the end, a word at a time where possible. */
  repeat(from: number, n: number): void {
    this.ensure(n);
    const dv = this.dv;
    const p = this.pos;
    let i = 0;
    for (; i + 4 <= n; i += 4) dv.setUint32(p + i, dv.getUint32(from + i, true), true);
    for (; i < n; i++) this.buf[p + i] = this.buf[from + i]!;
    this.pos = p + n;
  }

  /** Pre-encoded bytes (keys, punctuation). */
  raw(bytes: Uint8Array): void {
    const n = bytes.length;
    this.ensure(n);
    const b = this.buf;
    let p = this.pos;
    // short constants: a loop beats the native call of set()
    if (n <= 32) for (let i = 0; i < n; i++) b[p++] = bytes[i]!;
    else {
      b.set(bytes, p);
      p += n;
    }
    this.pos = p;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** A non-negative or negative integer (or any finite number) in decimal. */
  number(n: number): void {
    this.ensure(24);
    if (n >= 0 && n < 10 && (n | 0) === n) {
      this.buf[this.pos++] = 0x30 + n;
      return;
    }
    if (n >= 0 && n < 0x80000000 && (n | 0) === n) {
      // two digits per step from a table: record numbers, sequences, sizes
      const b = this.buf;
      const digits = n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : n < 100000 ? 5 : n < 1000000 ? 6 : n < 10000000 ? 7 : n < 100000000 ? 8 : n < 1000000000 ? 9 : 10;
      let at = this.pos + digits;
      this.pos = at;
      let x = n;
      while (x >= 100) {
        const q = (x / 100) | 0;
        const r = (x - q * 100) * 2;
        b[--at] = DIGIT_PAIRS[r + 1]!;
        b[--at] = DIGIT_PAIRS[r]!;
        x = q;
      }
      if (x >= 10) {
        b[--at] = DIGIT_PAIRS[x * 2 + 1]!;
        b[--at] = DIGIT_PAIRS[x * 2]!;
      } else b[--at] = 0x30 + x;
      return;
    }
    if (n >= 0 && n <= MAX_DIGITS_FAST && Number.isInteger(n)) {
      // Digits straight into the buffer, no string: counts, sizes and record numbers.
      const b = this.buf;
      let digits = 1;
      for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
      let at = this.pos + digits;
      this.pos = at;
      let x = n;
      do {
        const q = Math.floor(x / 10);
        b[--at] = 0x30 + (x - q * 10);
        x = q;
      } while (x > 0);
      return;
    }
    this.pos += this.buf.write(String(n), this.pos, 'latin1');
  }

  /**
   * UTF-16 units[start..end) as a JSON string body, UTF-8 encoded with the same
   * escaping as jsonString (quotes, backslashes, controls, lone surrogates as \uXXXX),
   * without building a string.
   */
  jsonUnits(units: Uint16Array, start: number, end: number): void {
    this.ensure((end - start) * 6);
    const b = this.buf;
    let p = this.pos;
    for (let i = start; i < end; i++) {
      const c = units[i]!;
      if (c < 0x80) {
        if (c >= 0x20 && c !== 0x22 && c !== 0x5c) b[p++] = c;
        else if (c === 0x22 || c === 0x5c) {
          b[p++] = 0x5c;
          b[p++] = c;
        } else p = writeUnitEscape(b, p, c);
      } else if (c < 0x800) {
        b[p++] = 0xc0 | (c >>> 6);
        b[p++] = 0x80 | (c & 0x3f);
      } else if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < end ? units[i + 1]! : 0;
        if (c < 0xdc00 && next >= 0xdc00 && next <= 0xdfff) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          b[p++] = 0xf0 | (cp >>> 18);
          b[p++] = 0x80 | ((cp >>> 12) & 0x3f);
          b[p++] = 0x80 | ((cp >>> 6) & 0x3f);
          b[p++] = 0x80 | (cp & 0x3f);
          i++;
        } else p = writeUnitEscape(b, p, c);
      } else {
        b[p++] = 0xe0 | (c >>> 12);
        b[p++] = 0x80 | ((c >>> 6) & 0x3f);
        b[p++] = 0x80 | (c & 0x3f);
      }
    }
    this.pos = p;
  }

  /** UTF-8 of a string with no escaping (the caller knows it is safe). */
  text(s: string): void {
    this.ensure(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** JSON string body (no quotes): escapes quotes, backslashes, controls and lone surrogates (as \uXXXX, lossless). */
  jsonString(s: string): void {
    if (!NEEDS_JSON_ESCAPE.test(s)) {
      this.text(s);
      return;
    }
    this.ensure(s.length * 6);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 0x22 || c === 0x5c) {
        this.buf[this.pos++] = 0x5c;
        this.buf[this.pos++] = c;
      } else if (c < 0x20) {
        this.escapeUnit(c);
      } else if (c >= 0xd800 && c <= 0xdfff) {
        const next = s.charCodeAt(i + 1);
        if (c < 0xdc00 && next >= 0xdc00 && next <= 0xdfff) {
          this.pos += this.buf.write(s.slice(i, i + 2), this.pos, 'utf8');
          i++;
        } else this.escapeUnit(c);
      } else this.pos += this.buf.write(s[i]!, this.pos, 'utf8');
    }
  }

  private escapeUnit(c: number): void {
    this.pos = writeUnitEscape(this.buf, this.pos, c);
  }
}

const MAX_DIGITS_FAST = Number.MAX_SAFE_INTEGER;
/** "00".."99" as bytes. */
const DIGIT_PAIRS = Uint8Array.from({ length: 200 }, (_, i) => 0x30 + (i & 1 ? (i >> 1) % 10 : Math.floor((i >> 1) / 10)));

/** \uXXXX (lowercase hex) at b[p..]; returns the new offset. */
function writeUnitEscape(b: Uint8Array, p: number, c: number): number {
  b[p++] = 0x5c;
  b[p++] = 0x75;
  b[p++] = HEX.charCodeAt((c >>> 12) & 15);
  b[p++] = HEX.charCodeAt((c >>> 8) & 15);
  b[p++] = HEX.charCodeAt((c >>> 4) & 15);
  b[p++] = HEX.charCodeAt(c & 15);
  return p;
}

/** ASCII bytes of a constant (keys and punctuation are encoded once, at module load). */
export function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** Replaces lone surrogates with U+FFFD, for formats without an escape for them (CSV, bodyfile). */
export function wellFormed(s: string): string {
  return /[\ud800-\udfff]/.test(s) ? s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd') : s;
}
