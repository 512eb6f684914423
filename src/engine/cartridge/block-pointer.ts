/**
 * Block pointers (docs/cartridge-format.md §6): 48 bytes naming a child page by address
 * and birth generation, with the child's checksum or, when encrypted, its GCM tag and
 * nonce. The parent vouches for the child, so a stale or misdirected page cannot.
 */
import { readU64LE } from '../binary.js';
import { DiskkitError, ErrorCode } from '../errors.js';
import { defineStruct } from '../struct.js';

export const BLOCK_POINTER_SIZE = 48;
export const SEAL_SIZE = 32;
export const GCM_TAG_SIZE = 16;
export const GCM_NONCE_SIZE = 12;

export const BlockPointerStruct = defineStruct('BlockPointer', BLOCK_POINTER_SIZE, {
  address: { offset: 0, type: 'u64' },
  generation: { offset: 8, type: 'u64' },
  seal: { offset: 16, type: { bytes: SEAL_SIZE } },
});

export interface BlockPointer {
  /** Page number of the child; 0 is the null pointer (page 0 is the superblock). */
  address: number;
  /** The child's birth generation. */
  generation: number;
  /** Checksum field, or tag (16) ‖ nonce (12) ‖ 0⁴ when encrypted. */
  seal: Uint8Array;
}

export const NULL_POINTER: BlockPointer = Object.freeze({ address: 0, generation: 0, seal: new Uint8Array(SEAL_SIZE) }) as BlockPointer;

export function isNullPointer(pointer: BlockPointer): boolean {
  return pointer.address === 0;
}

/**
 * BlockPointerStruct.decode, unrolled: a branch page decodes one per child (dozens per
 * page), and at start-up, before anything is optimized, the generic field loop was a
 * visible part of an `ls` of a deep path in a big catalog. Same checks, same result
 * (the seal a copy).
 */
export function decodeBlockPointer(buf: Uint8Array, offset = 0): BlockPointer {
  if (offset < 0 || offset + BLOCK_POINTER_SIZE > buf.length) {
    throw new DiskkitError(ErrorCode.TRUNCATED, `BlockPointer at offset ${offset} runs past the end of the data`, {
      context: { structure: 'BlockPointer', offset, length: buf.length },
    });
  }
  const f = BlockPointerStruct.fields;
  return {
    address: readU64LE(buf, offset + f.address.offset),
    generation: readU64LE(buf, offset + f.generation.offset),
    seal: Uint8Array.prototype.slice.call(buf, offset + f.seal.offset, offset + f.seal.offset + SEAL_SIZE),
  };
}

export function encodeBlockPointer(pointer: BlockPointer, buf: Uint8Array, offset = 0): void {
  BlockPointerStruct.encode(pointer, buf, offset);
}

/** Seal field of an encrypted child: tag ‖ nonce ‖ four zero bytes. */
export function aeadSeal(tag: Uint8Array, nonce: Uint8Array): Uint8Array {
  const seal = new Uint8Array(SEAL_SIZE);
  seal.set(tag, 0);
  seal.set(nonce, GCM_TAG_SIZE);
  return seal;
}

export function sealTag(seal: Uint8Array): Uint8Array {
  return seal.subarray(0, GCM_TAG_SIZE);
}

export function sealNonce(seal: Uint8Array): Uint8Array {
  return seal.subarray(GCM_TAG_SIZE, GCM_TAG_SIZE + GCM_NONCE_SIZE);
}
