import { describe, expect, it } from 'vitest';
import { DiskkitError } from '../../src/engine/errors.js';
import { KeyBlockStruct, createMasterKey, deriveKek, rewrapMasterKey, unlockMasterKey, wrapMasterKey } from '../../src/engine/cartridge/key-hierarchy.js';
import { scryptSync } from 'node:crypto';

const uuid = new Uint8Array(16).fill(3);

function errorOf(fn: () => unknown): DiskkitError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DiskkitError) return error;
    throw error;
  }
  throw new Error('expected a DiskkitError');
}

describe('key hierarchy (§10.1, §10.3)', () => {
  // One scrypt at N = 2^16 costs ~0.2 s here: the tests share a few key blocks.
  const { keys, keyBlock } = createMasterKey('correct horse', uuid);

  it('stores scrypt N = 2^16, r 8, p 1 and a 32-byte salt, and unlocks to the same master key', () => {
    const raw = KeyBlockStruct.decode(keyBlock);
    expect(raw).toMatchObject({ kdf: 1, log2N: 16, r: 8, p: 1 });
    expect(raw.salt.some((b) => b !== 0)).toBe(true);
    // The wrapped bytes are not the master key itself.
    expect(Buffer.from(raw.wrappedKey).equals(Buffer.from(keys.master))).toBe(false);
    const unlocked = unlockMasterKey(keyBlock, 'correct horse', uuid);
    expect(Buffer.from(unlocked.master).equals(Buffer.from(keys.master))).toBe(true);
    expect(Buffer.from(unlocked.meta).equals(Buffer.from(keys.meta))).toBe(true);
    expect(Buffer.from(keys.meta).equals(Buffer.from(keys.data))).toBe(false);
  });

  it('the KEK is plain scrypt of the passphrase with the stored salt (a second implementation can derive it)', () => {
    const raw = KeyBlockStruct.decode(keyBlock);
    const expected = scryptSync('correct horse', raw.salt, 32, { N: 65536, r: 8, p: 1, maxmem: 256 * 1024 * 1024 });
    expect(Buffer.from(deriveKek('correct horse', raw.salt, { log2N: 16, r: 8, p: 1 })).equals(expected)).toBe(true);
  });

  it('a wrong passphrase is reported as such, not as corruption', () => {
    const error = errorOf(() => unlockMasterKey(keyBlock, 'wrong horse', uuid));
    expect(error.code).toBe('E_BAD_PASSPHRASE');
    expect(error.context.reason).toBe('wrong-passphrase');
    expect(error.message).toBe('wrong passphrase');
  });

  it('a damaged wrapped key with the right passphrase is corruption', () => {
    const damaged = keyBlock.slice();
    damaged[64]! ^= 1;
    expect(errorOf(() => unlockMasterKey(damaged, 'correct horse', uuid)).code).toBe('E_CORRUPT');
    // Bound to this image: another uuid does not unwrap it.
    expect(errorOf(() => unlockMasterKey(keyBlock, 'correct horse', new Uint8Array(16))).code).toBe('E_CORRUPT');
  });

  it('re-wrapping under a new passphrase keeps the master key and retires the old passphrase', () => {
    const rewrapped = rewrapMasterKey(keyBlock, 'correct horse', 'battery staple', uuid);
    expect(Buffer.from(KeyBlockStruct.decode(rewrapped).salt).equals(Buffer.from(KeyBlockStruct.decode(keyBlock).salt))).toBe(false);
    const unlocked = unlockMasterKey(rewrapped, 'battery staple', uuid);
    expect(Buffer.from(unlocked.data).equals(Buffer.from(keys.data))).toBe(true);
    expect(errorOf(() => unlockMasterKey(rewrapped, 'correct horse', uuid)).context.reason).toBe('wrong-passphrase');
  });

  it('refuses scrypt parameters below 2^16 or that would demand unbounded memory, before running scrypt', () => {
    expect(errorOf(() => wrapMasterKey(keys.master, 'x', uuid, { log2N: 15, r: 8, p: 1 })).code).toBe('E_LIMIT');
    const hostile = keyBlock.slice();
    hostile[1] = 40; // log2N from a hostile image
    expect(errorOf(() => unlockMasterKey(hostile, 'correct horse', uuid)).code).toBe('E_LIMIT');
    const hostileR = keyBlock.slice();
    hostileR.set([0xff, 0xff, 0xff, 0x7f], 4);
    expect(errorOf(() => unlockMasterKey(hostileR, 'correct horse', uuid)).code).toBe('E_LIMIT');
  });

  it('an image without a key block says so', () => {
    expect(errorOf(() => unlockMasterKey(new Uint8Array(128), 'x', uuid)).code).toBe('E_CORRUPT');
  });
});
