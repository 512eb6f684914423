import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { compress as zstdCompress } from '@mongodb-js/zstd';
import { DiskkitError } from '../../src/engine/errors.js';
import { ChecksumAlgorithm } from '../../src/engine/cartridge/checksum.js';
import { Compression, type CompressionId } from '../../src/engine/cartridge/superblock.js';
import {
  type ExtentContext,
  compressExtent,
  compressExtentSync,
  decompressExtent,
  decompressExtentSync,
  openExtent,
  sealExtent,
  zstdOutputBound,
} from '../../src/engine/cartridge/extent-codec.js';
import { type ExtentRecord, decodeExtentRecord, encodeExtentRecord } from '../../src/engine/cartridge/extent-record.js';
import { patternBytes } from './scratch.js';

const uuid = new Uint8Array(16).fill(9);
const plain: ExtentContext = { pageSize: 4096, checksumAlgorithm: ChecksumAlgorithm.CRC32, uuid, dataKey: null };
const encrypted: ExtentContext = { ...plain, dataKey: new Uint8Array(randomBytes(32)) };

/** Text-like data that compresses well: repeated lines with a counter. */
function compressible(length: number): Uint8Array {
  const lines: string[] = [];
  for (let i = 0, total = 0; total < length; i++) {
    const line = `line ${i % 100}: the quick brown fox jumps over the lazy dog\n`;
    lines.push(line);
    total += line.length;
  }
  return new TextEncoder().encode(lines.join('')).subarray(0, length);
}

async function codeOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof DiskkitError) return error.code;
    throw error;
  }
  return 'no error';
}

async function roundTrip(data: Uint8Array, compression: CompressionId, ctx: ExtentContext): Promise<{ out: Uint8Array; used: CompressionId; pages: number }> {
  const compressed = await compressExtent(data, compression, ctx.pageSize);
  const { stored, record } = sealExtent(compressed, 100, 7, ctx);
  const buf = encodeExtentRecord(record);
  const decoded = decodeExtentRecord(buf, 0, ctx.pageSize, 1000);
  const out = await decompressExtent(openExtent(stored, decoded, ctx), decoded);
  return { out, used: decoded.compression, pages: decoded.pageCount };
}

describe.each([
  ['plain', plain],
  ['encrypted', encrypted],
])('extent codec, %s', (_name, ctx) => {
  it.each([
    ['none', Compression.NONE],
    ['lz4', Compression.LZ4],
    ['zstd', Compression.ZSTD],
  ] as const)('%s: 1 MiB of text round-trips, compressed into fewer pages unless none', async (_n, compression) => {
    const data = compressible(1024 * 1024);
    const { out, used, pages } = await roundTrip(data, compression, ctx);
    expect(Buffer.from(out).equals(Buffer.from(data))).toBe(true);
    expect(used).toBe(compression);
    if (compression === Compression.NONE) expect(pages).toBe(256);
    else expect(pages).toBeLessThan(64);
  });

  it('random data is stored raw: compression that saves no page is not kept', async () => {
    const data = patternBytes(65536, 11);
    for (const compression of [Compression.LZ4, Compression.ZSTD]) {
      const { out, used, pages } = await roundTrip(data, compression, ctx);
      expect(used).toBe(Compression.NONE);
      expect(pages).toBe(16);
      expect(Buffer.from(out).equals(Buffer.from(data))).toBe(true);
    }
  });

  it('a flipped bit in the stored bytes is reported with the extent address, never returned', async () => {
    const data = compressible(100_000);
    const { stored, record } = sealExtent(compressExtentSync(data, Compression.LZ4, 4096), 100, 7, ctx);
    for (const at of [0, 1, record.storedLength >> 1, record.storedLength - 1]) {
      const copy = stored.slice();
      copy[at]! ^= 0x10;
      try {
        openExtent(copy, record, ctx);
        expect.unreachable();
      } catch (error) {
        expect((error as DiskkitError).code).toBe('E_CHECKSUM');
        expect((error as DiskkitError).context.page).toBe(100);
      }
    }
  });
});

describe('lz4 early abort (samples of an extent, §9.2)', () => {
  const mib = 1024 * 1024;
  /** Text at [from, to) of an otherwise random megabyte. */
  function randomWithText(from: number, to: number): Uint8Array {
    const data = patternBytes(mib, 5);
    data.set(compressible(to - from), from);
    return data;
  }
  const encode = (data: Uint8Array) => compressExtentSync(data, Compression.LZ4, 4096, 0, new Uint8Array(mib));

  it('random data is stored raw, and text anywhere a sample falls is still compressed', () => {
    expect(encode(patternBytes(mib, 3)).compression).toBe(Compression.NONE);
    // Text under the first, the middle or the last sample: the extent is encoded whole and saves pages.
    for (const [from, to] of [[0, 256 * 1024], [384 * 1024, 640 * 1024], [mib - 256 * 1024, mib]]) {
      const data = randomWithText(from!, to!);
      const extent = encode(data);
      expect(extent.compression, `text at ${from}`).toBe(Compression.LZ4);
      expect(extent.bytes.length).toBeLessThan(mib - 100 * 1024);
      expect(Buffer.from(decompressExtentSync(extent.bytes, { logicalLength: mib, compression: Compression.LZ4 } as ExtentRecord)).equals(Buffer.from(data))).toBe(true);
    }
  });

  it('text that no sample touches is stored raw (the price of sampling: bigger, never wrong), and short extents are encoded whole', () => {
    const missed = randomWithText(64 * 1024, 320 * 1024);
    const extent = encode(missed);
    expect(extent.compression).toBe(Compression.NONE);
    expect(Buffer.from(extent.bytes).equals(Buffer.from(missed))).toBe(true);
    // The same bytes without sampling (lz4-napi, no output buffer) save pages.
    expect(compressExtentSync(missed, Compression.LZ4, 4096).compression).toBe(Compression.LZ4);
    // 64 KiB: random but for a text run between the sample places, still encoded whole.
    const short = patternBytes(64 * 1024, 9);
    short.set(compressible(24 * 1024), 8 * 1024);
    expect(encode(short).compression).toBe(Compression.LZ4);
  });
});

describe('extent encryption (§10.2)', () => {
  it('two extents swapped on disk (records left in place) fail their tags', () => {
    const a = sealExtent(compressExtentSync(compressible(8192), Compression.NONE, 4096), 200, 5, encrypted);
    const b = sealExtent(compressExtentSync(compressible(8192).reverse(), Compression.NONE, 4096), 300, 5, encrypted);
    expect(() => openExtent(b.stored, { ...a.record, seal: a.record.seal }, encrypted)).toThrow(DiskkitError);
    // Even moving both the bytes and the record to another address is caught (the address is in the AAD).
    expect(() => openExtent(a.stored, { ...a.record, address: 300 }, encrypted)).toThrow(DiskkitError);
    expect(() => openExtent(a.stored, { ...a.record, generation: 6 }, encrypted)).toThrow(DiskkitError);
    expect(Buffer.from(openExtent(a.stored, a.record, encrypted)).equals(Buffer.from(compressible(8192)))).toBe(true);
  });

  it('uses a fresh nonce each time the same data is sealed at the same place', () => {
    const extent = compressExtentSync(compressible(4096), Compression.NONE, 4096);
    const one = sealExtent(extent, 50, 3, encrypted);
    const two = sealExtent(extent, 50, 3, encrypted);
    expect(Buffer.from(one.record.seal.subarray(16, 28)).equals(Buffer.from(two.record.seal.subarray(16, 28)))).toBe(false);
    expect(Buffer.from(one.stored).equals(Buffer.from(two.stored))).toBe(false);
  });
});

describe('hostile compressed data', () => {
  it('a zstd frame of many tiny blocks that could expand past the bound is refused before decompressing', async () => {
    // Hand-made frame: header (descriptor 0, window byte), then 200 RLE blocks of 128 KiB each.
    const blocks: number[] = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58];
    for (let i = 0; i < 200; i++) {
      const header = ((131072 << 3) | (1 << 1) | (i === 199 ? 1 : 0)) >>> 0;
      blocks.push(header & 0xff, (header >>> 8) & 0xff, (header >>> 16) & 0xff, 0x41);
    }
    const frame = Uint8Array.from(blocks);
    expect(zstdOutputBound(frame)).toBe(200 * 131072);
    const { stored, record } = sealExtent({ bytes: frame, compression: Compression.ZSTD, logicalLength: 1048576 }, 10, 2, plain);
    expect(await codeOf(() => decompressExtent(openExtent(stored, record, plain), record))).toBe('E_CORRUPT');
  });

  it('an lz4 size prefix that disagrees with the record is refused before decompressing', async () => {
    const data = compressible(65536);
    const compressed = compressExtentSync(data, Compression.LZ4, 4096);
    const bytes = compressed.bytes.slice();
    bytes.set([0, 0, 0, 0x40], 0); // claims 1 GiB
    const { stored, record } = sealExtent({ ...compressed, bytes }, 10, 2, plain);
    expect(await codeOf(() => decompressExtent(openExtent(stored, record, plain), record))).toBe('E_CORRUPT');
  });

  it('bounds the output of real zstd frames from their block headers, and refuses a frame that decodes to another length', async () => {
    for (const length of [1, 255, 256, 65791, 131072, 1048576]) {
      const frame = new Uint8Array(await zstdCompress(Buffer.from(compressible(length))));
      const bound = zstdOutputBound(frame);
      expect(bound).not.toBeNull();
      expect(bound!).toBeGreaterThanOrEqual(length);
      expect(bound!).toBeLessThanOrEqual(length + 2 * 131072);
      // A frame cut anywhere is malformed.
      expect(zstdOutputBound(frame.subarray(0, frame.length - 1))).toBeNull();
    }
    const compressed = await compressExtent(compressible(200_000), Compression.ZSTD, 4096);
    const { stored, record } = sealExtent(compressed, 10, 2, plain);
    const lying = { ...record, logicalLength: 100_000 };
    expect(await codeOf(() => decompressExtent(openExtent(stored, lying, plain), lying))).toBe('E_CORRUPT');
    expect(zstdOutputBound(new Uint8Array(10))).toBe(null);
  });

  it('a record whose lengths or place are impossible is refused when decoded', () => {
    const { record } = sealExtent(compressExtentSync(compressible(8192), Compression.NONE, 4096), 10, 2, plain);
    const buf = encodeExtentRecord(record);
    expect(() => decodeExtentRecord(buf, 0, 4096, 11)).toThrow(DiskkitError); // runs past the image
    const big = encodeExtentRecord({ ...record, logicalLength: 2 * 1024 * 1024 });
    expect(() => decodeExtentRecord(big, 0, 4096, 1000)).toThrow(DiskkitError);
    const wrongPages = encodeExtentRecord({ ...record, pageCount: 1 });
    expect(() => decodeExtentRecord(wrongPages, 0, 4096, 1000)).toThrow(DiskkitError);
    expect(decodeExtentRecord(buf, 0, 4096, 1000)).toMatchObject({ address: 10, pageCount: 2, logicalLength: 8192 });
  });
});
