/**
 * LZ4 blocks through the C reference library (the `lz4` package's binding, built from
 * its bundled sources by node-gyp at install), falling back to lz4-block.ts when the
 * binding is not there (an optional dependency whose build failed). Both read and write
 * the same block format (docs/cartridge-format.md §9.2), into buffers the caller owns.
 *
 * Why: on the bench's text-like 1 MiB extents the C decoder spends about 0.33 CPU s per
 * GB against 2.5 for lz4-block.ts, and the C encoder about 3.4 against 4.6 while
 * compressing 8% tighter (measured here; lz4-napi and lz4-wasm-nodejs were slower
 * still, and both return a fresh buffer per call).
 *
 * Hostile input: decoding is LZ4_decompress_safe, which never reads outside the input
 * range nor writes outside the output it is given (a view of exactly `expected` bytes),
 * and returns a negative count for a malformed block; anything but exactly `expected`
 * bytes becomes Lz4FormatError, as from the JS decoder. The binding trusts the indexes
 * it is passed, so every index is checked here first.
 */
import { createRequire } from 'node:module';
import { Lz4FormatError, decodeLz4Block, encodeLz4Block } from './lz4-block.js';

export { Lz4FormatError };

/** The binding's own names (the package's index calls them encodeBlock and decodeBlock). */
interface Lz4Binding {
  /** LZ4_compress_default(input → output[start, end)): the block's length, 0 when it does not fit. */
  compress(input: Uint8Array, output: Uint8Array, start: number, end: number): number;
  /** LZ4_decompress_safe(input[start, end) → output): bytes written, negative when malformed. */
  uncompress(input: Uint8Array, output: Uint8Array, start: number, end: number): number;
}

let binding: Lz4Binding | null | undefined;
/** `js` forces lz4-block.ts (tests compare the two; DISKKIT_LZ4=js does it for a whole run). */
let forced: 'js' | null = process.env.DISKKIT_LZ4 === 'js' ? 'js' : null;

function native(): Lz4Binding | null {
  if (forced) return null;
  if (binding !== undefined) return binding;
  try {
    // The binding alone: the package's index also loads its stream classes and an xxhash port.
    const require = createRequire(import.meta.url);
    binding = require(require.resolve('lz4/build/Release/lz4.node')) as Lz4Binding;
    if (typeof binding.compress !== 'function' || typeof binding.uncompress !== 'function') binding = null;
  } catch {
    binding = null;
  }
  return binding;
}

/** Which codec is in use: 'c' (the reference library) or 'js' (lz4-block.ts). */
export function lz4Backend(): 'c' | 'js' {
  return native() ? 'c' : 'js';
}

/** For tests: force the JS codec (`'js'`) or go back to the default (`null`). */
export function forceLz4Backend(backend: 'js' | null): void {
  forced = backend;
}

/**
 * Encodes `src` as one LZ4 block into `out` from `at`; returns the end of the block, or
 * -1 when it would pass `limit` (see encodeLz4Block).
 */
export function encodeLz4(src: Uint8Array, out: Uint8Array, at: number, limit: number): number {
  limit = Math.min(limit, out.length);
  const lib = native();
  if (!lib) return encodeLz4Block(src, out, at, limit);
  if (!(at >= 0 && at < limit) || src.length === 0) return -1;
  const n = lib.compress(src, out, at, limit);
  return n > 0 ? at + n : -1;
}

/**
 * Decodes the LZ4 block `src[from, to)` into `out[0, expected)`; returns `expected`, or
 * throws Lz4FormatError (see decodeLz4Block).
 */
export function decodeLz4(src: Uint8Array, from: number, to: number, out: Uint8Array, expected: number): number {
  const lib = native();
  if (!lib) return decodeLz4Block(src, from, to, out, expected);
  if (expected > out.length) throw new Lz4FormatError(`output of ${expected} bytes does not fit a ${out.length}-byte buffer`);
  if (!(from >= 0 && from < to && to <= src.length)) throw new Lz4FormatError('block is empty or outside its buffer');
  const n = lib.uncompress(src, out.subarray(0, expected), from, to);
  if (n < 0) throw new Lz4FormatError('malformed block (the reference decoder refused it)');
  if (n !== expected) throw new Lz4FormatError(`decoded ${n} bytes, expected ${expected}`);
  return n;
}
