/**
 * Little-endian readers named for their byte order, and the one bound check every
 * untrusted count, offset or length passes through. Reads go through the buffer's
 * own accessors (which honour byteOffset and throw past the end) rather than a
 * DataView built over the whole ArrayBuffer.
 */
import { DiskkitError, ErrorCode } from './errors.js';

export function readU8(buf: Uint8Array, offset: number): number {
  if (offset < 0 || offset >= buf.length) throw outOfRange(buf, offset, 1);
  return buf[offset]!;
}

export function readU16LE(buf: Uint8Array, offset: number): number {
  if (offset < 0 || offset + 2 > buf.length) throw outOfRange(buf, offset, 2);
  return buf[offset]! | (buf[offset + 1]! << 8);
}

export function readU32LE(buf: Uint8Array, offset: number): number {
  if (offset < 0 || offset + 4 > buf.length) throw outOfRange(buf, offset, 4);
  return (buf[offset]! | (buf[offset + 1]! << 8) | (buf[offset + 2]! << 16)) + buf[offset + 3]! * 0x1000000;
}

/** 64-bit little-endian as a number; throws if the value does not fit in 2^53. */
export function readU64LE(buf: Uint8Array, offset: number): number {
  const low = readU32LE(buf, offset);
  const high = readU32LE(buf, offset + 4);
  if (high > 0x1fffff) {
    throw new DiskkitError(ErrorCode.LIMIT, `64-bit value too large at offset ${offset}`, { context: { offset, high } });
  }
  return high * 0x100000000 + low;
}

export function writeU8(buf: Uint8Array, offset: number, value: number): void {
  if (offset < 0 || offset >= buf.length) throw outOfRange(buf, offset, 1);
  buf[offset] = value & 0xff;
}

export function writeU16LE(buf: Uint8Array, offset: number, value: number): void {
  if (offset < 0 || offset + 2 > buf.length) throw outOfRange(buf, offset, 2);
  buf[offset] = value & 0xff;
  buf[offset + 1] = (value >>> 8) & 0xff;
}

export function writeU32LE(buf: Uint8Array, offset: number, value: number): void {
  if (offset < 0 || offset + 4 > buf.length) throw outOfRange(buf, offset, 4);
  buf[offset] = value & 0xff;
  buf[offset + 1] = (value >>> 8) & 0xff;
  buf[offset + 2] = (value >>> 16) & 0xff;
  buf[offset + 3] = (value >>> 24) & 0xff;
}

export function writeU64LE(buf: Uint8Array, offset: number, value: number): void {
  writeU32LE(buf, offset, value % 0x100000000);
  writeU32LE(buf, offset + 4, Math.floor(value / 0x100000000));
}

/**
 * The one guard for sizes read from untrusted input: returns `value` when
 * 0 <= value <= max, else throws E_LIMIT naming `what`.
 */
export function checkBound(value: number, max: number, what: string): number {
  if (!Number.isFinite(value) || value < 0 || value > max) {
    throw new DiskkitError(ErrorCode.LIMIT, `${what} out of range: ${value} (max ${max})`, { context: { what, value, max } });
  }
  return value;
}

function outOfRange(buf: Uint8Array, offset: number, width: number): DiskkitError {
  return new DiskkitError(ErrorCode.TRUNCATED, `read of ${width} bytes at offset ${offset} past end of ${buf.length}-byte structure`, {
    context: { offset, width, length: buf.length },
  });
}
