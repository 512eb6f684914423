/**
 * CRC-32 (IEEE, reflected: the value zlib.crc32 gives), through whichever implementation
 * costs least for the input and the process's age:
 * - zlib's C function, taken from Node's own binding (the one `node:zlib` wraps; see
 *   zlibBindingCrc32): importing node:zlib loads Node's whole stream stack (about twenty
 *   modules: some 8 M instructions and 110 page faults here), while opening a cartridge
 *   or starting a journal checks a few small pieces. Small inputs (under LARGE_BYTES)
 *   always go this way.
 * - Where that binding is not offered, a slicing-by-8 table for the first
 *   TABLE_CRC_BUDGET bytes of small inputs, then zlib's. The table runs interpreted in a
 *   short process: about 30 M instructions (some 6 ms) of a listing of a deep directory in
 *   a 1,000,000-file catalog, against about 1 M through the binding.
 * - Large inputs (Cartridge extents, journal records) go through @node-rs/crc32
 *   (PCLMULQDQ/SIMD): about 0.085 CPU s per GiB here against 0.2 for zlib's, a fifth of a
 *   1 GiB copy out. Its loader costs 8-12 ms of CPU, which the faster CRC pays back only
 *   after about 90 MB, so zlib's takes the first ZLIB_LARGE_BUDGET bytes (a cp -r of
 *   10,000 small files checks 30 MB of packs). zlib's throughout when it is missing (an
 *   optional dependency).
 */
import { createRequire } from 'node:module';
import { crc32 as zlibCrc32 } from 'node:zlib';

const TABLE_CRC_BUDGET = 256 * 1024;
let tableCrcBytesLeft = TABLE_CRC_BUDGET;
const LARGE_BYTES = 64 * 1024;
const ZLIB_LARGE_BUDGET = 32 * 1024 * 1024;
let zlibLargeBytes = 0;

type Crc32 = (data: Uint8Array, value?: number) => number;
let simdCrc32: Crc32 | null | undefined;

function largeCrc32(): Crc32 {
  return simdCrc32OrNull() ?? zlibBindingCrc32() ?? zlibCrc32;
}

function simdCrc32OrNull(): Crc32 | null {
  if (simdCrc32 === undefined) {
    try {
      simdCrc32 = (createRequire(import.meta.url)('@node-rs/crc32') as { crc32: Crc32 }).crc32;
    } catch {
      simdCrc32 = null;
    }
  }
  return simdCrc32;
}

/**
 * zlib's crc32 from `process.binding('zlib')`, or null. Node 20 still serves that binding
 * (its deprecation, DEP0111, is documentation-only) but warns on stderr under
 * --pending-deprecation, so it is not asked for then; a Node that drops it leaves the table.
 * The binding checks its arguments by aborting the process, not by throwing as node:zlib's
 * wrapper does: it is only ever given a Uint8Array and a value made a uint32 here.
 */
let bindingCrc32: Crc32 | null | undefined;

function zlibBindingCrc32(): Crc32 | null {
  if (bindingCrc32 !== undefined) return bindingCrc32;
  bindingCrc32 = null;
  const pending = process.execArgv.includes('--pending-deprecation') || (process.env.NODE_OPTIONS ?? '').includes('--pending-deprecation');
  if (!pending) {
    try {
      const binding = (process as unknown as { binding(name: string): { crc32?: unknown } }).binding('zlib');
      if (typeof binding.crc32 === 'function') {
        const crc = binding.crc32 as Crc32;
        // A binding whose answer differs from the table's (another signature) is not used.
        const probe = new Uint8Array([0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39]);
        if (crc(probe, 0) === 0xcbf43926) bindingCrc32 = (data, value = 0) => crc(data, value >>> 0);
      }
    } catch {
      // Not offered: the table.
    }
  }
  return bindingCrc32;
}

/** Where zlib's CRC-32 comes from: 'binding' (Node's, without node:zlib) or 'table' (the table first, then node:zlib). */
export function zlibCrc32Source(): 'binding' | 'table' {
  return zlibBindingCrc32() ? 'binding' : 'table';
}

/** Which CRC-32 large inputs go through (once past zlib's first ZLIB_LARGE_BUDGET bytes): 'simd' (@node-rs/crc32) or 'zlib'. */
export function largeCrc32Backend(): 'simd' | 'zlib' {
  return simdCrc32OrNull() ? 'simd' : 'zlib';
}

/** CRC-32 of `data`, continuing `value` (as zlib.crc32). */
export function crc32(data: Uint8Array, value = 0): number {
  if (data.length >= LARGE_BYTES) {
    if (simdCrc32 === undefined && zlibLargeBytes < ZLIB_LARGE_BUDGET) {
      zlibLargeBytes += data.length;
      return (zlibBindingCrc32() ?? zlibCrc32)(data, value);
    }
    return largeCrc32()(data, value) >>> 0;
  }
  const native = zlibBindingCrc32();
  if (native) return native(data, value);
  if (data.length <= tableCrcBytesLeft) {
    tableCrcBytesLeft -= data.length;
    return tableCrc32(data, value);
  }
  return zlibCrc32(data, value);
}

/** CRC-32 tables for slicing by 8 (table k: the CRC of a byte followed by k zero bytes), built on first use. */
let crcTables: Int32Array | undefined;

function crcTablesOnce(): Int32Array {
  if (crcTables !== undefined) return crcTables;
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) for (let k = 1, c = t[n]!; k < 8; k++) t[k * 256 + n] = c = t[c & 0xff]! ^ (c >>> 8);
  return (crcTables = t);
}

/** CRC-32 by table, eight bytes a step (`value` continues an earlier CRC, as zlib.crc32). */
export function tableCrc32(data: Uint8Array, value = 0): number {
  const t = crcTablesOnce();
  const n = data.length;
  let crc = ~value;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const a = crc ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    crc = t[1792 + (a & 0xff)]! ^ t[1536 + ((a >>> 8) & 0xff)]! ^ t[1280 + ((a >>> 16) & 0xff)]! ^ t[1024 + (a >>> 24)]! ^ t[768 + data[i + 4]!]! ^ t[512 + data[i + 5]!]! ^ t[256 + data[i + 6]!]! ^ t[data[i + 7]!]!;
  }
  for (; i < n; i++) crc = t[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}
