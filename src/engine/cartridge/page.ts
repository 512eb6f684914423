/**
 * The common header of every page but the superblock (docs/cartridge-format.md §5.1), and
 * the two operations every page goes through: `sealPage` (header, encryption, checksum,
 * the pointer its parent stores) and `openPage` (checks against that pointer, decrypts).
 */
import { defineStruct } from '../struct.js';
import { DiskkitError, ErrorCode } from '../errors.js';
import { type BlockPointer, aeadSeal, sealNonce, sealTag } from './block-pointer.js';
import { type ChecksumAlgorithmId, computeChecksum, sameChecksum } from './checksum.js';
import { associatedData, gcmDecrypt, gcmEncrypt, randomNonce } from './aead.js';

export const PAGE_HEADER_SIZE = 64;
/** Bytes [32, 64) of the header hold the self-checksum; it covers [0, 32) ‖ [64, pageSize). */
const CHECKSUM_OFFSET = 32;

export const PageType = {
  META: 1,
  FREELIST: 2,
  CATALOG_NODE: 16,
  EXTENT_MAP_NODE: 17,
  SNAPSHOT_NODE: 18,
  SEAL: 32,
} as const;
export type PageTypeId = (typeof PageType)[keyof typeof PageType];
const KNOWN_TYPES = new Set<number>(Object.values(PageType));

export const PageFlag = { ENCRYPTED_PAYLOAD: 1 } as const;

export const PageHeaderStruct = defineStruct('PageHeader', PAGE_HEADER_SIZE, {
  type: { offset: 0, type: 'u16' },
  flags: { offset: 2, type: 'u16' },
  reserved4: { offset: 4, type: 'u32' },
  pageNumber: { offset: 8, type: 'u64' },
  generation: { offset: 16, type: 'u64' },
  reserved24: { offset: 24, type: 'u64' },
  selfChecksum: { offset: CHECKSUM_OFFSET, type: { bytes: 32 } },
});

export interface PageHeader {
  type: number;
  flags: number;
  pageNumber: number;
  generation: number;
  selfChecksum: Uint8Array;
}

/** What sealing and opening a page needs to know about the image. */
export interface PageContext {
  pageSize: number;
  checksumAlgorithm: ChecksumAlgorithmId;
  uuid: Uint8Array;
  /** K_meta (§10.1) when the image is encrypted; META pages are never encrypted. */
  metaKey: Uint8Array | null;
}

export function decodePageHeader(page: Uint8Array): PageHeader {
  const raw = PageHeaderStruct.decode(page);
  return { type: raw.type, flags: raw.flags, pageNumber: raw.pageNumber, generation: raw.generation, selfChecksum: raw.selfChecksum };
}

/** Header of a page whose checksum verified; a 64-bit field past 2^53 is corruption too. */
function decodeHeaderOf(page: Uint8Array, address: number): PageHeader {
  try {
    return decodePageHeader(page);
  } catch (error) {
    if (error instanceof DiskkitError) throw corrupt(address, `header unreadable (${error.message})`);
    throw error;
  }
}

function pageChecksum(page: Uint8Array, algorithm: ChecksumAlgorithmId): Uint8Array {
  return computeChecksum(algorithm, page.subarray(0, CHECKSUM_OFFSET), page.subarray(PAGE_HEADER_SIZE));
}

function encrypts(type: number, ctx: PageContext): boolean {
  return ctx.metaKey !== null && type !== PageType.META;
}

/**
 * Writes the header of `page` (whose payload [64, pageSize) is filled in), encrypts the
 * payload in place when the image is encrypted, sets the self-checksum, and returns the
 * pointer a parent stores.
 */
export function sealPage(page: Uint8Array, type: PageTypeId, address: number, generation: number, ctx: PageContext): BlockPointer {
  if (page.length !== ctx.pageSize) throw new Error(`page buffer is ${page.length} bytes, not ${ctx.pageSize}`);
  const encrypted = encrypts(type, ctx);
  PageHeaderStruct.encode(
    { type, flags: encrypted ? PageFlag.ENCRYPTED_PAYLOAD : 0, reserved4: 0, pageNumber: address, generation, reserved24: 0 },
    page,
  );
  let seal: Uint8Array | null = null;
  if (encrypted) {
    const nonce = randomNonce();
    const { ciphertext, tag } = gcmEncrypt(ctx.metaKey!, nonce, page.subarray(PAGE_HEADER_SIZE), associatedData(ctx.uuid, address, generation, type));
    page.set(ciphertext, PAGE_HEADER_SIZE);
    seal = aeadSeal(tag, nonce);
  }
  const checksum = pageChecksum(page, ctx.checksumAlgorithm);
  page.set(checksum, CHECKSUM_OFFSET);
  return { address, generation, seal: seal ?? checksum };
}

function corrupt(address: number, what: string, context: Record<string, unknown> = {}): DiskkitError {
  // A checksum or tag that does not match is E_CHECKSUM (damage to this page's bytes);
  // the other checks (type, number, generation) find a wrong page, E_CORRUPT.
  const code = context.kind === 'checksum' || context.kind === 'tag' ? ErrorCode.CHECKSUM : ErrorCode.CORRUPT;
  return new DiskkitError(code, `page ${address}: ${what}`, { context: { page: address, ...context } });
}

/**
 * Checks what a page says about itself (fsck's linear scan, meta selection): a known type,
 * its own page number, and a self-checksum that verifies. Returns the header or a reason.
 */
export function verifyPageSelf(page: Uint8Array, address: number, ctx: PageContext): { header: PageHeader } | { problem: string } {
  if (!sameChecksum(pageChecksum(page, ctx.checksumAlgorithm), page.subarray(CHECKSUM_OFFSET, PAGE_HEADER_SIZE))) return { problem: 'self-checksum mismatch' };
  let header: PageHeader;
  try {
    header = decodeHeaderOf(page, address);
  } catch (error) {
    return { problem: (error as Error).message };
  }
  if (!KNOWN_TYPES.has(header.type)) return { problem: `unknown page type ${header.type}` };
  if (header.pageNumber !== address) return { problem: `header names page ${header.pageNumber}` };
  return { header };
}

/**
 * Verifies a page read from `pointer.address` against the pointer its parent holds
 * (type, page number, generation, seal) and decrypts its payload in place. Throws
 * E_CORRUPT naming the page when anything disagrees; never returns unverified bytes.
 */
export function openPage(page: Uint8Array, pointer: BlockPointer, expectedType: PageTypeId, ctx: PageContext): Uint8Array {
  const address = pointer.address;
  // The self-checksum first: nothing in the header is trusted before it verifies. It is
  // checked even when the pointer's seal is a tag, since it covers header fields the tag
  // does not (and the unused bytes of a CRC-32 field must be zero).
  const checksum = pageChecksum(page, ctx.checksumAlgorithm);
  if (!sameChecksum(checksum, page.subarray(CHECKSUM_OFFSET, PAGE_HEADER_SIZE))) throw corrupt(address, 'self-checksum mismatch', { kind: 'checksum' });
  const header = decodeHeaderOf(page, address);
  if (header.type !== expectedType) throw corrupt(address, `type ${header.type} where type ${expectedType} was expected`, { type: header.type });
  if (header.pageNumber !== address) throw corrupt(address, `header names page ${header.pageNumber} (misdirected or stale write)`);
  if (header.generation !== pointer.generation) {
    throw corrupt(address, `generation ${header.generation}, its parent expects ${pointer.generation} (stale page)`, { generation: header.generation });
  }
  const encrypted = encrypts(expectedType, ctx);
  if (((header.flags & PageFlag.ENCRYPTED_PAYLOAD) !== 0) !== encrypted || (header.flags & ~PageFlag.ENCRYPTED_PAYLOAD) !== 0) {
    throw corrupt(address, `flags ${header.flags} do not match the image`);
  }
  if (!encrypted) {
    if (!sameChecksum(checksum, pointer.seal)) throw corrupt(address, 'checksum differs from the one its parent holds', { kind: 'checksum' });
    return page;
  }
  const aad = associatedData(ctx.uuid, address, header.generation, expectedType);
  const plain = gcmDecrypt(ctx.metaKey!, sealNonce(pointer.seal), page.subarray(PAGE_HEADER_SIZE), sealTag(pointer.seal), aad);
  if (plain === null) throw corrupt(address, 'authentication tag mismatch (tampered, moved or wrong key)', { kind: 'tag' });
  page.set(plain, PAGE_HEADER_SIZE);
  return page;
}
