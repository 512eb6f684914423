/**
 * $BITMAP (type 0xB0). On `$MFT` it has one bit per MFT record, set when the record
 * is in use; `--skip-unused` reads only the records whose bit is set (edge case 16).
 */
export const BITMAP_TYPE = 0xb0;

/** True when bit `n` of the bitmap is set; bits past the end count as clear. */
export function isBitSet(bitmap: Uint8Array, n: number): boolean {
  const byte = n >>> 3;
  return byte < bitmap.length && (bitmap[byte]! & (1 << (n & 7))) !== 0;
}
