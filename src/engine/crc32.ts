/**
 * CRC-32 (IEEE, reflected: the value zlib.crc32 gives), through whichever of three
 * implementations costs least for the input and the process's age:
 * - Small inputs (under LARGE_BYTES) of a command's start go through a slicing-by-8
 *   table: the first call of zlib.crc32 loads node:zlib and with it Node's whole stream
 *   stack (about twenty modules: some 8 M instructions and 110 page faults here), while
 *   opening a cartridge or starting a journal checks a few small pieces. After
 *   TABLE_CRC_BUDGET bytes, zlib's.
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
  if (simdCrc32 === undefined) {
    try {
      simdCrc32 = (createRequire(import.meta.url)('@node-rs/crc32') as { crc32: Crc32 }).crc32;
    } catch {
      simdCrc32 = null;
    }
  }
  return simdCrc32 ?? zlibCrc32;
}

/** Which CRC-32 large inputs go through (once past zlib's first ZLIB_LARGE_BUDGET bytes): 'simd' (@node-rs/crc32) or 'zlib'. */
export function largeCrc32Backend(): 'simd' | 'zlib' {
  return largeCrc32() === zlibCrc32 ? 'zlib' : 'simd';
}

/** CRC-32 of `data`, continuing `value` (as zlib.crc32). */
export function crc32(data: Uint8Array, value = 0): number {
  if (data.length >= LARGE_BYTES) {
    if (simdCrc32 === undefined && zlibLargeBytes < ZLIB_LARGE_BUDGET) {
      zlibLargeBytes += data.length;
      return zlibCrc32(data, value);
    }
    return largeCrc32()(data, value) >>> 0;
  }
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
