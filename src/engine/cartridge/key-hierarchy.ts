/**
 * The key hierarchy (docs/cartridge-format.md §10.1, §10.3): scrypt turns the passphrase
 * into a key-encryption key (KEK) that wraps a random master key; the working keys are
 * derived from the master key, so changing the passphrase re-wraps 32 bytes and rewrites
 * no data. The key-check value tells a wrong passphrase from a corrupt key block.
 */
import { createHmac, randomBytes, scryptSync } from 'node:crypto';
import { defineStruct } from '../struct.js';
import { DiskkitError, ErrorCode } from '../errors.js';
import { gcmDecrypt, gcmEncrypt } from './aead.js';
import { sameChecksum } from './checksum.js';
import { KEY_BLOCK_SIZE } from './meta-page.js';

export const KDF_SCRYPT = 1;
export const MASTER_KEY_SIZE = 32;
/** Bounds a reader enforces before calling scrypt, so a hostile image cannot demand gigabytes. */
export const SCRYPT_LIMITS = { minLog2N: 16, maxLog2N: 24, maxR: 32, maxP: 16 } as const;
export const DEFAULT_SCRYPT = { log2N: 16, r: 8, p: 1 } as const;

const WRAP_AAD_LABEL = 'diskkit cartridge key wrap';
const KEY_CHECK_LABEL = 'diskkit cartridge key check';
const META_KEY_LABEL = 'diskkit cartridge meta key';
const DATA_KEY_LABEL = 'diskkit cartridge data key';

export const KeyBlockStruct = defineStruct('KeyBlock', KEY_BLOCK_SIZE, {
  kdf: { offset: 0, type: 'u8' },
  log2N: { offset: 1, type: 'u8' },
  reserved2: { offset: 2, type: 'u16' },
  r: { offset: 4, type: 'u32' },
  p: { offset: 8, type: 'u32' },
  reserved12: { offset: 12, type: 'u32' },
  salt: { offset: 16, type: { bytes: 32 } },
  wrapNonce: { offset: 48, type: { bytes: 12 } },
  reserved60: { offset: 60, type: 'u32' },
  wrappedKey: { offset: 64, type: { bytes: 32 } },
  wrapTag: { offset: 96, type: { bytes: 16 } },
  keyCheck: { offset: 112, type: { bytes: 16 } },
});

export interface ScryptParams {
  log2N: number;
  r: number;
  p: number;
}

export interface WorkingKeys {
  master: Uint8Array;
  /** K_meta: encrypts metadata pages. */
  meta: Uint8Array;
  /** K_data: encrypts extents. */
  data: Uint8Array;
}

function hmac(key: Uint8Array, label: string): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(label).digest());
}

export function deriveWorkingKeys(master: Uint8Array): WorkingKeys {
  return { master, meta: hmac(master, META_KEY_LABEL), data: hmac(master, DATA_KEY_LABEL) };
}

function validateParams(params: ScryptParams): void {
  const { log2N, r, p } = params;
  if (!Number.isInteger(log2N) || log2N < SCRYPT_LIMITS.minLog2N || log2N > SCRYPT_LIMITS.maxLog2N) {
    throw new DiskkitError(ErrorCode.LIMIT, `scrypt N = 2^${log2N} outside 2^${SCRYPT_LIMITS.minLog2N}..2^${SCRYPT_LIMITS.maxLog2N}`, { context: { field: 'log2N', value: log2N } });
  }
  if (!Number.isInteger(r) || r < 1 || r > SCRYPT_LIMITS.maxR) throw new DiskkitError(ErrorCode.LIMIT, `scrypt r = ${r} outside 1..${SCRYPT_LIMITS.maxR}`, { context: { field: 'r', value: r } });
  if (!Number.isInteger(p) || p < 1 || p > SCRYPT_LIMITS.maxP) throw new DiskkitError(ErrorCode.LIMIT, `scrypt p = ${p} outside 1..${SCRYPT_LIMITS.maxP}`, { context: { field: 'p', value: p } });
}

/** scrypt with `maxmem` raised to what the parameters need (Node's default stops at 32 MiB). */
export function deriveKek(passphrase: string | Uint8Array, salt: Uint8Array, params: ScryptParams): Uint8Array {
  validateParams(params);
  const N = 2 ** params.log2N;
  const maxmem = 128 * N * params.r * 2 + 1024 * 1024;
  return new Uint8Array(scryptSync(passphrase, salt, MASTER_KEY_SIZE, { N, r: params.r, p: params.p, maxmem }));
}

function wrapAad(uuid: Uint8Array): Uint8Array {
  const label = new TextEncoder().encode(WRAP_AAD_LABEL);
  const aad = new Uint8Array(16 + label.length);
  aad.set(uuid.subarray(0, 16), 0);
  aad.set(label, 16);
  return aad;
}

/** Wraps `master` under a fresh salt and nonce; returns the 128-byte key block. */
export function wrapMasterKey(master: Uint8Array, passphrase: string | Uint8Array, uuid: Uint8Array, params: ScryptParams = DEFAULT_SCRYPT): Uint8Array {
  if (master.length !== MASTER_KEY_SIZE) throw new Error('master key must be 32 bytes');
  const salt = new Uint8Array(randomBytes(32));
  const kek = deriveKek(passphrase, salt, params);
  const wrapNonce = new Uint8Array(randomBytes(12));
  const { ciphertext, tag } = gcmEncrypt(kek, wrapNonce, master, wrapAad(uuid));
  const block = new Uint8Array(KEY_BLOCK_SIZE);
  KeyBlockStruct.encode(
    {
      kdf: KDF_SCRYPT,
      log2N: params.log2N,
      r: params.r,
      p: params.p,
      salt,
      wrapNonce,
      wrappedKey: ciphertext,
      wrapTag: tag,
      keyCheck: hmac(kek, KEY_CHECK_LABEL).subarray(0, 16),
    },
    block,
  );
  return block;
}

/** A new random master key and its key block (mkfs --encrypt). */
export function createMasterKey(passphrase: string | Uint8Array, uuid: Uint8Array, params: ScryptParams = DEFAULT_SCRYPT): { keys: WorkingKeys; keyBlock: Uint8Array } {
  const master = new Uint8Array(randomBytes(MASTER_KEY_SIZE));
  return { keys: deriveWorkingKeys(master), keyBlock: wrapMasterKey(master, passphrase, uuid, params) };
}

/**
 * Unwraps the master key. A wrong passphrase is E_USAGE with `context.reason`
 * 'wrong-passphrase' (the key-check differs); a key check that matches but a wrap that
 * does not verify is E_CORRUPT (the key block was damaged).
 */
export function unlockMasterKey(keyBlock: Uint8Array, passphrase: string | Uint8Array, uuid: Uint8Array): WorkingKeys {
  const raw = KeyBlockStruct.decode(keyBlock);
  if (raw.kdf !== KDF_SCRYPT) {
    throw new DiskkitError(ErrorCode.CORRUPT, raw.kdf === 0 ? 'image has no key block (not encrypted?)' : `unknown key derivation ${raw.kdf}`, { context: { field: 'kdf', value: raw.kdf } });
  }
  const kek = deriveKek(passphrase, raw.salt, { log2N: raw.log2N, r: raw.r, p: raw.p });
  if (!sameChecksum(hmac(kek, KEY_CHECK_LABEL).subarray(0, 16), raw.keyCheck)) {
    throw new DiskkitError(ErrorCode.BAD_PASSPHRASE, 'wrong passphrase', { context: { reason: 'wrong-passphrase' }, hint: 'check DISKKIT_PASSPHRASE or --key-file' });
  }
  const master = gcmDecrypt(kek, raw.wrapNonce, raw.wrappedKey, raw.wrapTag, wrapAad(uuid));
  if (master === null) throw new DiskkitError(ErrorCode.CORRUPT, 'key block is damaged: the passphrase is right but the wrapped key does not verify', { context: { field: 'wrappedKey' } });
  return deriveWorkingKeys(master);
}

/** Passphrase change: unwrap with the old one, wrap under the new one; data is untouched. */
export function rewrapMasterKey(keyBlock: Uint8Array, oldPassphrase: string | Uint8Array, newPassphrase: string | Uint8Array, uuid: Uint8Array, params?: ScryptParams): Uint8Array {
  const keys = unlockMasterKey(keyBlock, oldPassphrase, uuid);
  const raw = KeyBlockStruct.decode(keyBlock);
  return wrapMasterKey(keys.master, newPassphrase, uuid, params ?? { log2N: raw.log2N, r: raw.r, p: raw.p });
}
