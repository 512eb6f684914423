import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { DiskkitError } from '../../src/engine/errors.js';
import { ChecksumAlgorithm } from '../../src/engine/cartridge/checksum.js';
import { type PageContext } from '../../src/engine/cartridge/page.js';
import { Cipher, Compression, decodeSuperblock, encodeSuperblock, hasCartridgeMagic, IncompatFeature } from '../../src/engine/cartridge/superblock.js';
import { decodeMetaSlot, emptyMeta, encodeMetaPage, selectMetaPage } from '../../src/engine/cartridge/meta-page.js';

const uuid = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
const ctx: PageContext = { pageSize: 4096, checksumAlgorithm: ChecksumAlgorithm.CRC32, uuid, metaKey: null };
const fields = {
  pageSize: 8192,
  incompatFeatures: 0,
  roCompatFeatures: 0,
  compatFeatures: 0,
  checksumAlgorithm: ChecksumAlgorithm.SHA256,
  defaultCompression: Compression.ZSTD,
  compressionLevel: 5,
  cipher: Cipher.NONE,
  uuid,
  createdMs: 1_700_000_000_123,
} as const;

function errorOf(fn: () => unknown): DiskkitError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DiskkitError) return error;
    throw error;
  }
  throw new Error('expected a DiskkitError');
}

describe('superblock (§3)', () => {
  it('round-trips every field and starts with "DKCART\\r\\n"', () => {
    const page = encodeSuperblock(fields);
    expect(page.length).toBe(8192);
    expect(Buffer.from(page.subarray(0, 8)).toString('latin1')).toBe('DKCART\r\n');
    expect(hasCartridgeMagic(page)).toBe(true);
    const sb = decodeSuperblock(page);
    expect(sb).toMatchObject({ versionMajor: 1, versionMinor: 1, pageSize: 8192, checksumAlgorithm: 2, defaultCompression: 2, compressionLevel: 5, cipher: 0, createdMs: 1_700_000_000_123, readOnly: false });
    expect([...sb.uuid]).toEqual([...uuid]);
  });

  it('its checksum is SHA-256 of bytes [0, 480) at offset 480', () => {
    const page = encodeSuperblock(fields);
    expect(Buffer.from(page.subarray(480, 512)).equals(createHash('sha256').update(page.subarray(0, 480)).digest())).toBe(true);
  });

  it('a flipped bit anywhere in the checked 512 bytes is an error, never a wrong superblock', () => {
    const page = encodeSuperblock(fields);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 512 * 8 - 1 }), (bit) => {
        const copy = page.slice();
        copy[bit >>> 3]! ^= 1 << (bit & 7);
        const error = errorOf(() => decodeSuperblock(copy));
        return ['E_CORRUPT', 'E_UNKNOWN_FORMAT'].includes(error.code);
      }),
      { numRuns: 400 },
    );
  });

  it('refuses other files, unknown versions and unknown incompatible features with their own codes', () => {
    expect(errorOf(() => decodeSuperblock(new Uint8Array(4096))).code).toBe('E_UNKNOWN_FORMAT');
    const v2 = encodeSuperblock(fields);
    v2[8] = 2;
    v2.set(createHash('sha256').update(v2.subarray(0, 480)).digest(), 480);
    expect(errorOf(() => decodeSuperblock(v2)).code).toBe('E_UNSUPPORTED');
    expect(errorOf(() => decodeSuperblock(encodeSuperblock({ ...fields, incompatFeatures: 4 }))).code).toBe('E_UNSUPPORTED');
    expect(errorOf(() => decodeSuperblock(encodeSuperblock({ ...fields, incompatFeatures: IncompatFeature.ENCRYPTED }))).code).toBe('E_CORRUPT');
    expect(decodeSuperblock(encodeSuperblock({ ...fields, roCompatFeatures: 2 })).readOnly).toBe(true);
    expect(errorOf(() => decodeSuperblock(encodeSuperblock(fields).subarray(0, 100))).code).toBe('E_TRUNCATED');
  });
});

describe('meta pages and selectMetaPage (§4)', () => {
  const metaFor = (generation: number) =>
    encodeMetaPage({ ...emptyMeta(generation, 10 + generation), fileCount: generation * 3, keyBlock: new Uint8Array(128).fill(generation & 0xff) }, ctx);
  const zero = new Uint8Array(4096);

  it('generation g lives in page 1 + g mod 2 and decodes back', () => {
    const even = metaFor(6);
    const odd = metaFor(7);
    const slot0 = decodeMetaSlot(even, 0, ctx);
    const slot1 = decodeMetaSlot(odd, 1, ctx);
    expect('meta' in slot0 && slot0.meta).toMatchObject({ generation: 6, pageCount: 16, fileCount: 18 });
    expect('meta' in slot1 && slot1.meta).toMatchObject({ generation: 7, pageCount: 17, fileCount: 21 });
    // A meta page copied into the other slot is not valid there.
    expect(decodeMetaSlot(even, 1, ctx)).toHaveProperty('problem');
  });

  it('takes the valid slot with the highest generation', () => {
    expect(selectMetaPage(metaFor(6), metaFor(7), ctx).chosen.generation).toBe(7);
    expect(selectMetaPage(metaFor(8), metaFor(7), ctx).chosen.generation).toBe(8);
  });

  it('a torn newer meta page loses to the older one', () => {
    // Generation 8 overwrites generation 6 in slot 0, and only its first 200 bytes land.
    const torn = metaFor(6);
    torn.set(metaFor(8).subarray(0, 200));
    expect(selectMetaPage(torn, metaFor(7), ctx).chosen.generation).toBe(7);
  });

  it('neither slot valid is E_CORRUPT naming pages 1 and 2', () => {
    const error = errorOf(() => selectMetaPage(zero, zero, ctx));
    expect(error.code).toBe('E_CORRUPT');
    expect(error.message).toContain('page 1');
    expect(error.message).toContain('page 2');
  });

  it('for any pair of generations and any damage, picks exactly the highest intact one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e9 }), fc.boolean(), fc.boolean(), fc.nat(4095), (g, damage0, damage1, at) => {
        const even = g % 2 === 0 ? g : g + 1;
        const odd = g % 2 === 1 ? g : g + 1;
        const slot0 = metaFor(even);
        const slot1 = metaFor(odd);
        if (damage0) slot0[at]! ^= 0x40;
        if (damage1) slot1[at]! ^= 0x40;
        const intact = [damage0 ? null : even, damage1 ? null : odd].filter((x): x is number => x !== null);
        if (intact.length === 0) return errorOf(() => selectMetaPage(slot0, slot1, ctx)).code === 'E_CORRUPT';
        return selectMetaPage(slot0, slot1, ctx).chosen.generation === Math.max(...intact);
      }),
      { numRuns: 200 },
    );
  });
});
