/**
 * Taking over a buffer an earlier index used (index-memory.ts says why): zero-filled
 * over the part the new user views, so that what is built in it is the same as in
 * fresh memory. A leaf module: the table, list and grouping modules all use it.
 */

/**
 * `buffer` zero-filled over its first `bytes` bytes, when it is of the kind asked for
 * (shared or not) and holds that many; otherwise null (the caller allocates).
 */
export function zeroedForReuse<T extends ArrayBuffer | SharedArrayBuffer>(buffer: ArrayBuffer | SharedArrayBuffer | null | undefined, bytes: number, shared: boolean): T | null {
  if (!buffer || buffer instanceof SharedArrayBuffer !== shared || buffer.byteLength < bytes) return null;
  new Uint8Array(buffer, 0, bytes).fill(0);
  return buffer as T;
}
