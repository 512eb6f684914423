/**
 * Arrow column builders for table writers (format-parquet.ts, listings): growable
 * UTF-8 string columns filled straight from UTF-16 units, INT64 values written as
 * two 32-bit words, FILETIME turned into Unix microseconds, validity bitmaps.
 */
import * as arrow from './arrow.js';

/** FILETIME ticks (100 ns since 1601) at the Unix epoch, as two 32-bit words. */
const EPOCH_LO = 0xd53e8000;
const EPOCH_HI = 0x019db1de;
const TWO_32 = 0x100000000;

/** A growable UTF-8 string column: offsets and bytes. */
export class StringColumn {
  offsets: Int32Array;
  bytes: Uint8Array;
  length = 0;
  at = 0;

  constructor(rows: number, bytesGuess: number) {
    this.offsets = new Int32Array(rows + 1);
    this.bytes = new Uint8Array(bytesGuess);
  }

  reset(): void {
    this.length = 0;
    this.at = 0;
  }

  private room(n: number): void {
    if (this.at + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.at + n));
    grown.set(this.bytes.subarray(0, this.at));
    this.bytes = grown;
  }

  private rows(n: number): void {
    if (this.length + n + 1 <= this.offsets.length) return;
    const grown = new Int32Array(Math.max(this.offsets.length * 2, this.length + n + 1));
    grown.set(this.offsets.subarray(0, this.length + 1));
    this.offsets = grown;
  }

  /** Appends UTF-16 units [start, end) to the current value (unpaired surrogates become U+FFFD). */
  units(units: Uint16Array, start: number, end: number): void {
    this.room(3 * (end - start));
    const b = this.bytes;
    let p = this.at;
    for (let i = start; i < end; i++) {
      let c = units[i]!;
      if (c < 0x80) b[p++] = c;
      else if (c < 0x800) {
        b[p++] = 0xc0 | (c >> 6);
        b[p++] = 0x80 | (c & 63);
      } else if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < end ? units[i + 1]! : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          b[p++] = 0xf0 | (c >> 18);
          b[p++] = 0x80 | ((c >> 12) & 63);
          b[p++] = 0x80 | ((c >> 6) & 63);
          b[p++] = 0x80 | (c & 63);
        } else {
          b[p++] = 0xef;
          b[p++] = 0xbf;
          b[p++] = 0xbd;
        }
      } else {
        b[p++] = 0xe0 | (c >> 12);
        b[p++] = 0x80 | ((c >> 6) & 63);
        b[p++] = 0x80 | (c & 63);
      }
    }
    this.at = p;
  }

  /** Appends bytes to the current value. */
  raw(bytes: Uint8Array, start = 0, end = bytes.length): void {
    const n = end - start;
    this.room(n);
    const b = this.bytes;
    // Most values (names, a directory's path repeated for its files) are short: a loop beats a
    // subarray view per call; copyWithin for this column's own bytes, which set() would first clone.
    if (n <= 64) for (let i = start, p = this.at; i < end; i++, p++) b[p] = bytes[i]!;
    else if (bytes === b) b.copyWithin(this.at, start, end);
    else b.set(bytes.subarray(start, end), this.at);
    this.at += n;
  }

  /** Ends the current value. */
  end(): void {
    this.rows(1);
    this.offsets[++this.length] = this.at;
  }

  /** Where the current value started. */
  get valueStart(): number {
    return this.offsets[this.length]!;
  }

  /** The values so far as Arrow data: views of this column's memory, valid until the next reset or append. */
  data(): arrow.Data<arrow.Utf8> {
    return arrow.makeData({ type: new arrow.Utf8(), length: this.length, valueOffsets: this.offsets.subarray(0, this.length + 1), data: this.bytes.subarray(0, this.at) });
  }
}

/** Sets an INT64 from a non-negative integer below 2^53 (sizes, record numbers). */
export function setInt64(words: Int32Array, i: number, v: number): void {
  words[2 * i] = v % TWO_32 | 0;
  words[2 * i + 1] = Math.floor(v / TWO_32);
}

/**
 * Microseconds since the Unix epoch of a FILETIME given as two words, rounded down,
 * written as an INT64 (two words). Done in 32-bit halves: FILETIMEs pass 2^53.
 */
export function setFiletimeMicros(words: Int32Array, i: number, lo: number, hi: number): void {
  // ticks since 1970 = FILETIME - EPOCH, signed 64-bit
  let l = lo - EPOCH_LO;
  let h = hi - EPOCH_HI;
  if (l < 0) {
    l += TWO_32;
    h -= 1;
  }
  // floor division by 10 of h·2^32 + l, h signed
  const qh = Math.floor(h / 10);
  const rest = (h - qh * 10) * TWO_32 + l; // 0 ≤ rest < 10·2^32, exact in a double
  const ql = Math.floor(rest / 10); // < 2^32
  words[2 * i] = ql | 0;
  words[2 * i + 1] = qh | 0;
}

export function bits(n: number): Uint8Array {
  return new Uint8Array((n + 7) >> 3);
}

export function setBit(bitmap: Uint8Array, i: number, on: boolean): void {
  if (on) bitmap[i >> 3]! |= 1 << (i & 7);
}

