/**
 * Copying out of a SharedArrayBuffer (the host reader's slots). V8 copies to or from
 * shared memory with relaxed atomic loads and stores, a machine word at a time only when
 * source and destination share their alignment mod 8 and a byte at a time otherwise: a
 * file's bytes in a slot and its place in a pack almost never do, and that byte loop was a
 * tenth of the main thread's instructions in a 10,000-file import. Through a scratch
 * buffer at the source's alignment, both copies are fast (the second is a plain memcpy).
 */
const WORD = 8;
const CHUNK = 64 * 1024;
let scratch: Uint8Array | null = null;

/** `dst.set(src, at)`, without the byte-at-a-time copy when `src` lies in shared memory. */
export function copyBytes(dst: Uint8Array, src: Uint8Array, at = 0): void {
  const shift = src.byteOffset % WORD;
  if (src.length < 4 * WORD || !(src.buffer instanceof SharedArrayBuffer) || (dst.byteOffset + at) % WORD === shift) {
    dst.set(src, at);
    return;
  }
  scratch ??= new Uint8Array(CHUNK + WORD);
  for (let done = 0; done < src.length; done += CHUNK) {
    const n = Math.min(CHUNK, src.length - done);
    scratch.set(src.subarray(done, done + n), shift);
    dst.set(scratch.subarray(shift, shift + n), at + done);
  }
}
