/**
 * The free list on disk (docs/cartridge-format.md §8): a chain of FREELIST pages, each
 * with a count, a pointer to the next page and 32-byte records (start, length, born,
 * freed). Written whole at every commit without recursion: the old chain is freed first,
 * then the new chain's pages are taken one at a time from the front of the lowest
 * reusable extent, which never adds a record.
 */
import { readU32LE, readU64LE, writeU32LE, writeU64LE } from '../binary.js';
import { DiskkitError, ErrorCode } from '../errors.js';
import { type BlockPointer, NULL_POINTER, decodeBlockPointer, encodeBlockPointer, isNullPointer } from './block-pointer.js';
import { type FreeExtent, validateRecords } from './free-space.js';
import { PAGE_HEADER_SIZE, PageType } from './page.js';
import { type Pager } from './pager.js';

const COUNT_OFFSET = PAGE_HEADER_SIZE; // 64
const NEXT_OFFSET = PAGE_HEADER_SIZE + 8; // 72
const RECORDS_OFFSET = NEXT_OFFSET + 48; // 120
export const FREE_RECORD_SIZE = 32;

export function recordsPerPage(pageSize: number): number {
  return Math.floor((pageSize - RECORDS_OFFSET) / FREE_RECORD_SIZE);
}

export function encodeFreeListPage(records: FreeExtent[], next: BlockPointer, pageSize: number): Uint8Array {
  if (records.length > recordsPerPage(pageSize)) throw new Error('too many free records for one page');
  const page = new Uint8Array(pageSize);
  writeU32LE(page, COUNT_OFFSET, records.length);
  encodeBlockPointer(next, page, NEXT_OFFSET);
  records.forEach((r, i) => {
    const at = RECORDS_OFFSET + i * FREE_RECORD_SIZE;
    writeU64LE(page, at, r.start);
    writeU64LE(page, at + 8, r.length);
    writeU64LE(page, at + 16, r.born);
    writeU64LE(page, at + 24, r.freed);
  });
  return page;
}

export function decodeFreeListPage(page: Uint8Array, address: number): { records: FreeExtent[]; next: BlockPointer } {
  const count = readU32LE(page, COUNT_OFFSET);
  if (count > recordsPerPage(page.length)) throw new DiskkitError(ErrorCode.CORRUPT, `page ${address}: free list page claims ${count} records`, { context: { page: address } });
  const records: FreeExtent[] = [];
  for (let i = 0; i < count; i++) {
    const at = RECORDS_OFFSET + i * FREE_RECORD_SIZE;
    records.push({ start: readU64LE(page, at), length: readU64LE(page, at + 8), born: readU64LE(page, at + 16), freed: readU64LE(page, at + 24) });
  }
  return { records, next: decodeBlockPointer(page, NEXT_OFFSET) };
}

/** Reads the whole chain from `head`, bounded by the image size; also returns the chain's own pages. */
export function readFreeList(pager: Pager, head: BlockPointer, pageCount: number): { records: FreeExtent[]; chain: BlockPointer[] } {
  const records: FreeExtent[] = [];
  const chain: BlockPointer[] = [];
  for (let pointer = head; !isNullPointer(pointer); ) {
    if (chain.length >= pageCount) throw new DiskkitError(ErrorCode.CORRUPT, 'free list chain loops', { context: { page: pointer.address } });
    chain.push(pointer);
    const decoded = decodeFreeListPage(pager.readPage(pointer, PageType.FREELIST), pointer.address);
    records.push(...decoded.records);
    pointer = decoded.next;
  }
  validateRecords(records, pageCount);
  return { records, chain };
}

/**
 * Frees the previous chain, normalises the free space and writes the new chain; returns
 * its head (for the meta page) and its pages (the next commit frees them).
 */
export function writeFreeList(pager: Pager, previousChain: BlockPointer[]): { head: BlockPointer; chain: BlockPointer[] } {
  const space = pager.space;
  for (const pointer of previousChain) pager.freePages(pointer.address, 1, pointer.generation);
  space.normalize();
  const perPage = recordsPerPage(pager.pageSize);
  const needed = Math.ceil(space.list().length / perPage);
  const addresses: number[] = [];
  for (let i = 0; i < needed; i++) addresses.push(space.allocate(1));
  const records = space.list();
  let next: BlockPointer = NULL_POINTER;
  const chain: BlockPointer[] = [];
  for (let i = addresses.length - 1; i >= 0; i--) {
    const page = encodeFreeListPage(records.slice(i * perPage, (i + 1) * perPage), next, pager.pageSize);
    next = pager.writePage(page, PageType.FREELIST, addresses[i]!);
    chain.unshift(next);
  }
  return { head: next, chain };
}
