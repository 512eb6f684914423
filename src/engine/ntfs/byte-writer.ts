/**
 * An output buffer for the row formatters: rows are written as bytes (ASCII
 * numbers, UTF-8 text with the format's escaping) into one growing buffer that the
 * caller drains in large chunks. Avoids building a JS string per row.
 */
const NEEDS_JSON_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
const HEX = '0123456789abcdef';

export class ByteWriter {
  buf: Buffer;
  pos = 0;

  constructor(capacity = 1 << 22) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Takes the bytes written so far (a copy-free view valid until the next write) and resets. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(this.buf.length);
    this.pos = 0;
    return out;
  }

  /** Pre-encoded bytes (keys, punctuation). */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** A non-negative or negative integer (or any finite number) in decimal. */
  number(n: number): void {
    this.ensure(24);
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
