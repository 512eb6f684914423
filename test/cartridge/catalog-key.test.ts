/**
 * Catalog keys (catalog-key.ts): a name decodes to the string it was encoded from, whether
 * it is ASCII (decoded a code unit per byte) or not (TextDecoder); bytes that are not
 * UTF-8 are E_CORRUPT. The expectation is the name given to the encoder.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeCatalogKey, encodeCatalogKey } from '../../src/engine/cartridge/catalog-key.js';
import { DiskkitError, ErrorCode } from '../../src/engine/errors.js';

const validName = (name: string): boolean => {
  const n = Buffer.byteLength(name);
  return n >= 1 && n <= 255 && !name.includes('/') && !name.includes('\0') && name !== '.' && name !== '..';
};

describe('catalog keys', () => {
  it('decode to the parent and name they were made from (ASCII, any Unicode, up to 255 bytes)', () => {
    const names = fc.oneof(fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 255 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 120 }));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 40 }), names, (parentId, name) => {
        fc.pre(validName(name) && name.isWellFormed());
        expect(decodeCatalogKey(encodeCatalogKey(parentId, name))).toEqual({ parentId, name });
      }),
      { numRuns: 200 },
    );
    // 255 bytes: the longest name, ASCII and two-byte characters.
    for (const name of ['a'.repeat(255), 'é'.repeat(127) + 'x', 'x'.repeat(252) + '€']) expect(decodeCatalogKey(encodeCatalogKey(7, name)).name).toBe(name);
  });

  it('refuses a name that is not UTF-8 with E_CORRUPT, however little of it is not ASCII', () => {
    for (const tail of [[0xff], [0x61, 0x62, 0xc3], [0x80, 0x61], [0x61, 0xed, 0xa0, 0x80]]) {
      const key = new Uint8Array(8 + tail.length);
      key[7] = 5;
      key.set(tail, 8);
      let error: unknown;
      try {
        decodeCatalogKey(key);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DiskkitError);
      expect((error as DiskkitError).code).toBe(ErrorCode.CORRUPT);
    }
  });
});
