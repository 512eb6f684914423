import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { createHash } from 'node:crypto';
import { DiskkitError } from '../../src/engine/errors.js';
import { ChecksumAlgorithm, computeChecksum } from '../../src/engine/cartridge/checksum.js';
import { crc32 as diskkitCrc32, largeCrc32Backend, zlibCrc32Source, tableCrc32 } from '../../src/engine/crc32.js';
import { createRequire } from 'node:module';
import { type PageContext, PageType, decodePageHeader, openPage, sealPage, verifyPageSelf } from '../../src/engine/cartridge/page.js';
import { decodeBlockPointer, encodeBlockPointer } from '../../src/engine/cartridge/block-pointer.js';

const uuid = new Uint8Array(16).fill(7);
const contexts: [string, PageContext][] = [
  ['crc32', { pageSize: 4096, checksumAlgorithm: ChecksumAlgorithm.CRC32, uuid, metaKey: null }],
  ['sha256', { pageSize: 4096, checksumAlgorithm: ChecksumAlgorithm.SHA256, uuid, metaKey: null }],
  ['aes-256-gcm', { pageSize: 4096, checksumAlgorithm: ChecksumAlgorithm.CRC32, uuid, metaKey: new Uint8Array(randomBytes(32)) }],
];

function payloadPage(ctx: PageContext, fill: number): Uint8Array {
  const page = new Uint8Array(ctx.pageSize);
  for (let i = 64; i < page.length; i++) page[i] = (i * 31 + fill) & 0xff;
  return page;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof DiskkitError) return error.code;
    throw error;
  }
  return 'no error';
}

describe('page header and self-checksum (§5.1)', () => {
  it('a CRC-32 self-checksum equals zlib.crc32 of header[0,32) ‖ payload, stored little-endian', () => {
    const ctx = contexts[0]![1];
    const page = payloadPage(ctx, 1);
    sealPage(page, PageType.CATALOG_NODE, 9, 5, ctx);
    const expected = crc32(Buffer.concat([page.subarray(0, 32), page.subarray(64)]));
    expect(Buffer.from(page.subarray(32, 36)).readUInt32LE(0)).toBe(expected);
    expect([...page.subarray(36, 64)].every((b) => b === 0)).toBe(true);
  });

  it('a SHA-256 self-checksum fills the 32-byte field', () => {
    const ctx = contexts[1]![1];
    const page = payloadPage(ctx, 2);
    sealPage(page, PageType.FREELIST, 4, 2, ctx);
    const expected = createHash('sha256').update(page.subarray(0, 32)).update(page.subarray(64)).digest();
    expect(Buffer.from(page.subarray(32, 64)).equals(expected)).toBe(true);
  });

  it('the header carries type, own page number and generation', () => {
    const ctx = contexts[0]![1];
    const page = payloadPage(ctx, 3);
    sealPage(page, PageType.EXTENT_MAP_NODE, 123456789, 42, ctx);
    expect(decodePageHeader(page)).toMatchObject({ type: 17, flags: 0, pageNumber: 123456789, generation: 42 });
  });
});

describe.each(contexts)('sealPage / openPage with %s', (_name, ctx) => {
  it('round-trips the payload through the pointer the parent keeps', () => {
    const page = payloadPage(ctx, 4);
    const original = page.slice(64);
    const pointer = sealPage(page, PageType.CATALOG_NODE, 10, 3, ctx);
    if (ctx.metaKey) expect(Buffer.from(page.subarray(64)).equals(Buffer.from(original))).toBe(false);
    // The pointer survives its own 48-byte encoding.
    const buf = new Uint8Array(48);
    encodeBlockPointer(pointer, buf);
    const opened = openPage(page.slice(), decodeBlockPointer(buf), PageType.CATALOG_NODE, ctx);
    expect(Buffer.from(opened.subarray(64)).equals(Buffer.from(original))).toBe(true);
    expect(verifyPageSelf(page, 10, ctx)).toHaveProperty('header');
  });

  it('any single flipped bit is reported as E_CHECKSUM, naming the page', () => {
    const page = payloadPage(ctx, 5);
    const pointer = sealPage(page, PageType.CATALOG_NODE, 11, 3, ctx);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: ctx.pageSize * 8 - 1 }), (bit) => {
        const copy = page.slice();
        copy[bit >>> 3]! ^= 1 << (bit & 7);
        try {
          openPage(copy, pointer, PageType.CATALOG_NODE, ctx);
          return false;
        } catch (error) {
          return error instanceof DiskkitError && error.code === 'E_CHECKSUM' && error.context.page === 11;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a misdirected write (page for 12 found at 13) and a stale generation are refused', () => {
    const page = payloadPage(ctx, 6);
    const pointer = sealPage(page, PageType.CATALOG_NODE, 12, 3, ctx);
    expect(codeOf(() => openPage(page.slice(), { ...pointer, address: 13 }, PageType.CATALOG_NODE, ctx))).toBe('E_CORRUPT');
    expect(codeOf(() => openPage(page.slice(), { ...pointer, generation: 4 }, PageType.CATALOG_NODE, ctx))).toBe('E_CORRUPT');
    expect(codeOf(() => openPage(page.slice(), pointer, PageType.FREELIST, ctx))).toBe('E_CORRUPT');
  });

  it('an older, self-consistent version of the page does not satisfy the new pointer', () => {
    const older = payloadPage(ctx, 7);
    sealPage(older, PageType.CATALOG_NODE, 14, 3, ctx);
    const newer = payloadPage(ctx, 8);
    const pointer = sealPage(newer, PageType.CATALOG_NODE, 14, 3, ctx);
    expect(verifyPageSelf(older, 14, ctx)).toHaveProperty('header');
    expect(codeOf(() => openPage(older, pointer, PageType.CATALOG_NODE, ctx))).toBe('E_CHECKSUM');
  });
});

describe('encrypted pages', () => {
  const ctx = contexts[2]![1];
  it('two pages swapped between addresses fail their tags even with headers rewritten to match', () => {
    const a = payloadPage(ctx, 9);
    const pa = sealPage(a, PageType.CATALOG_NODE, 20, 3, ctx);
    const b = payloadPage(ctx, 10);
    sealPage(b, PageType.CATALOG_NODE, 21, 3, ctx);
    // An attacker moves b's ciphertext to 20 and fixes its header and self-checksum.
    const forged = b.slice();
    forged.set(a.subarray(0, 64));
    expect(codeOf(() => openPage(forged, pa, PageType.CATALOG_NODE, ctx))).toBe('E_CHECKSUM');
  });

  it('a wrong key fails the tag', () => {
    const page = payloadPage(ctx, 11);
    const pointer = sealPage(page, PageType.CATALOG_NODE, 22, 3, ctx);
    const other = { ...ctx, metaKey: new Uint8Array(32) };
    expect(codeOf(() => openPage(page, pointer, PageType.CATALOG_NODE, other))).toBe('E_CHECKSUM');
  });

  it('META pages are never encrypted, so they can be read before the key is known', () => {
    const page = payloadPage(ctx, 12);
    const payload = page.slice(64);
    sealPage(page, PageType.META, 1, 2, ctx);
    expect(Buffer.from(page.subarray(64)).equals(Buffer.from(payload))).toBe(true);
    expect(decodePageHeader(page).flags).toBe(0);
  });
});

describe('the CRC-32 field of large inputs (extents, through the SIMD library when it is installed)', () => {
  it('equals zlib.crc32 of the concatenated parts, whatever their sizes and split points', () => {
    // Asking which backend loads it (it is otherwise loaded after 32 MiB of large inputs), so the parts below go through it.
    const backend = largeCrc32Backend();
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300_000 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 0xffff }), (sizes, seed) => {
        const parts = sizes.map((size, i) => {
          const part = new Uint8Array(size);
          for (let j = 0; j < size; j++) part[j] = (j * 2654435761 + seed * (i + 1)) >>> 24;
          return part;
        });
        const whole = Buffer.concat(parts);
        const field = computeChecksum(ChecksumAlgorithm.CRC32, ...parts);
        expect(new DataView(field.buffer).getUint32(0, true)).toBe(crc32(whole));
        expect(field.subarray(4).every((b) => b === 0)).toBe(true);
      }),
      { numRuns: 25 },
    );
    // The library is an optional dependency: where it installed, it is the one in use.
    let installed = true;
    try {
      createRequire(import.meta.url).resolve('@node-rs/crc32');
    } catch {
      installed = false;
    }
    expect(backend).toBe(installed ? 'simd' : 'zlib');
  });
});

describe('CRC-32 of small inputs without loading node:zlib: the table, and the dispatcher through the zlib binding', () => {
  it('the dispatcher goes through the binding on this Node (the table is the fallback for a Node that drops it)', () => {
    expect(zlibCrc32Source()).toBe('binding');
  });

  it.each([
    ['the table', tableCrc32],
    ['the dispatcher', diskkitCrc32],
  ])('%s equals zlib.crc32 for every length from 0 to 40 and for pages, continuing an earlier value as zlib does', (_, crcOf) => {
    const bytes = new Uint8Array(randomBytes(3 * 4096 + 13));
    for (let length = 0; length <= 40; length++) expect(crcOf(bytes.subarray(0, length)), `length ${length}`).toBe(crc32(bytes.subarray(0, length)));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.length }), fc.integer({ min: 0, max: bytes.length }), fc.integer({ min: 0, max: 0xffffffff }), (a, b, start) => {
        const [from, to] = a <= b ? [a, b] : [b, a];
        const part = bytes.subarray(from, to);
        expect(crcOf(part, start)).toBe(crc32(part, start));
        expect(crcOf(bytes.subarray(to), crcOf(part))).toBe(crc32(bytes.subarray(from)));
      }),
      { numRuns: 200 },
    );
  });
});
