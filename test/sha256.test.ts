/**
 * engine/sha256.ts (the Cartridge superblock's checksum without node:crypto) against
 * node:crypto's SHA-256, the independent oracle, on every length across the padding
 * boundaries and on random data; and the FIPS 180-4 example "abc".
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { sha256 } from '../src/engine/sha256.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const oracle = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('sha256', () => {
  it('hashes "abc" to the FIPS 180-4 example digest', () => {
    expect(hex(sha256(Buffer.from('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('agrees with node:crypto on every length from 0 to 300 bytes (one, two and more blocks)', () => {
    for (let n = 0; n <= 300; n++) {
      const data = new Uint8Array(n).map((_, i) => (i * 131 + n * 7) & 0xff);
      expect(hex(sha256(data)), `length ${n}`).toBe(oracle(data));
    }
  });

  it('agrees with node:crypto on random data up to 4 KiB', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 4096 }), (data) => hex(sha256(data)) === oracle(data)), { numRuns: 200 });
  });
});
