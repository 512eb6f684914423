/**
 * AES-256-GCM as the Cartridge uses it (docs/cartridge-format.md §10.2): random 96-bit
 * nonces, 16-byte tags, and AAD = uuid ‖ address ‖ generation ‖ type so that an
 * encrypted page or extent cannot be moved, swapped or replayed unnoticed.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { writeU16LE, writeU64LE } from '../binary.js';
import { GCM_NONCE_SIZE, GCM_TAG_SIZE } from './block-pointer.js';

export const AEAD_KEY_SIZE = 32;
/** The type value an extent's AAD carries (§5.2): extents have no page header. */
export const DATA_EXTENT_AAD_TYPE = 256;

export function associatedData(uuid: Uint8Array, address: number, generation: number, type: number): Uint8Array {
  const aad = new Uint8Array(16 + 8 + 8 + 2);
  aad.set(uuid.subarray(0, 16), 0);
  writeU64LE(aad, 16, address);
  writeU64LE(aad, 24, generation);
  writeU16LE(aad, 32, type);
  return aad;
}

export function randomNonce(): Uint8Array {
  return new Uint8Array(randomBytes(GCM_NONCE_SIZE));
}

/** Encrypts `plaintext` (same length out); the tag goes to the caller's pointer. */
export function gcmEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): { ciphertext: Uint8Array; tag: Uint8Array } {
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_SIZE });
  cipher.setAAD(aad);
  const first = cipher.update(plaintext);
  const last = cipher.final();
  const ciphertext = last.length === 0 ? first : Buffer.concat([first, last]);
  return { ciphertext: new Uint8Array(ciphertext.buffer, ciphertext.byteOffset, ciphertext.length), tag: new Uint8Array(cipher.getAuthTag()) };
}

/** Decrypts and authenticates; returns null when the tag does not verify (never partial plaintext). */
export function gcmDecrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, aad: Uint8Array): Uint8Array | null {
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_SIZE });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  const first = decipher.update(ciphertext);
  try {
    const last = decipher.final();
    const plain = last.length === 0 ? first : Buffer.concat([first, last]);
    return new Uint8Array(plain.buffer, plain.byteOffset, plain.length);
  } catch {
    return null;
  }
}

/**
 * Pieces of in-place decryption: the binding's output for each piece comes from memory
 * the heap reuses, where a fresh megabyte per extent is page-faulted in (measured: about
 * a third of the system time of whole-extent calls).
 */
const IN_PLACE_PIECE = 64 * 1024;

/**
 * Decrypts `data` in place (a buffer the caller owns and reuses: extents on their way to
 * be decoded); false when the tag does not verify, and then `data` holds nothing usable.
 */
export function gcmDecryptInPlace(key: Uint8Array, nonce: Uint8Array, data: Uint8Array, tag: Uint8Array, aad: Uint8Array): boolean {
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_SIZE });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  // The output never runs ahead of the input consumed, so writing it back over the input is safe.
  let out = 0;
  for (let at = 0; at < data.length; at += IN_PLACE_PIECE) {
    const piece = decipher.update(data.subarray(at, Math.min(data.length, at + IN_PLACE_PIECE)));
    data.set(piece, out);
    out += piece.length;
  }
  try {
    const last = decipher.final();
    data.set(last, out);
    out += last.length;
  } catch {
    return false;
  }
  return out === data.length;
}
