/**
 * Meta pages, pages 1 and 2 (docs/cartridge-format.md §4): each commit writes slot
 * `generation mod 2`; open takes the valid slot with the highest generation
 * (`selectMetaPage`, the one function every reader uses).
 */
import { defineStruct } from '../struct.js';
import { DiskkitError, ErrorCode } from '../errors.js';
import { type BlockPointer, BLOCK_POINTER_SIZE, NULL_POINTER, decodeBlockPointer, encodeBlockPointer } from './block-pointer.js';
import { type PageContext, PageType, sealPage, verifyPageSelf } from './page.js';

export const META_SLOT_PAGES = [1, 2] as const;
export const FIRST_DATA_PAGE = 3;
export const KEY_BLOCK_OFFSET = 256;
export const KEY_BLOCK_SIZE = 128;

export const MetaPayloadStruct = defineStruct('MetaPage', KEY_BLOCK_OFFSET + KEY_BLOCK_SIZE, {
  generation: { offset: 64, type: 'u64' },
  pageCount: { offset: 72, type: 'u64' },
  nextInodeId: { offset: 80, type: 'u64' },
  fileCount: { offset: 88, type: 'u64' },
  commitMs: { offset: 96, type: 'u64' },
  catalogRoot: { offset: 104, type: { bytes: BLOCK_POINTER_SIZE } },
  freeListHead: { offset: 152, type: { bytes: BLOCK_POINTER_SIZE } },
  snapshotRoot: { offset: 200, type: { bytes: BLOCK_POINTER_SIZE } },
  reserved248: { offset: 248, type: 'u64' },
  keyBlock: { offset: KEY_BLOCK_OFFSET, type: { bytes: KEY_BLOCK_SIZE } },
});

export interface MetaPage {
  generation: number;
  pageCount: number;
  nextInodeId: number;
  fileCount: number;
  commitMs: number;
  catalogRoot: BlockPointer;
  freeListHead: BlockPointer;
  snapshotRoot: BlockPointer;
  /** §10.3, all zero when the image is not encrypted. */
  keyBlock: Uint8Array;
}

export function metaSlotPage(generation: number): number {
  return 1 + (generation % 2);
}

/** Encodes meta page `meta` as the full page for its slot (header and self-checksum included). */
export function encodeMetaPage(meta: MetaPage, ctx: PageContext): Uint8Array {
  if (!Number.isSafeInteger(meta.generation) || meta.generation < 1) throw new Error(`invalid generation ${meta.generation}`);
  const page = new Uint8Array(ctx.pageSize);
  const pointerBytes = (p: BlockPointer) => {
    const b = new Uint8Array(BLOCK_POINTER_SIZE);
    encodeBlockPointer(p, b);
    return b;
  };
  MetaPayloadStruct.encode(
    {
      generation: meta.generation,
      pageCount: meta.pageCount,
      nextInodeId: meta.nextInodeId,
      fileCount: meta.fileCount,
      commitMs: meta.commitMs,
      catalogRoot: pointerBytes(meta.catalogRoot),
      freeListHead: pointerBytes(meta.freeListHead),
      snapshotRoot: pointerBytes(meta.snapshotRoot),
      reserved248: 0,
      keyBlock: meta.keyBlock,
    },
    page,
  );
  sealPage(page, PageType.META, metaSlotPage(meta.generation), meta.generation, ctx);
  return page;
}

export type MetaSlotResult = { slot: number; page: number; meta: MetaPage } | { slot: number; page: number; problem: string };

/** Decodes one slot, returning why it is not valid instead of throwing (§4 validity rule). */
export function decodeMetaSlot(page: Uint8Array, slot: 0 | 1, ctx: PageContext): MetaSlotResult {
  const address = META_SLOT_PAGES[slot];
  if (page.length < ctx.pageSize) return { slot, page: address, problem: 'page missing (image truncated)' };
  const self = verifyPageSelf(page, address, ctx);
  if ('problem' in self) return { slot, page: address, problem: self.problem };
  if (self.header.type !== PageType.META) return { slot, page: address, problem: `type ${self.header.type} is not META` };
  const raw = MetaPayloadStruct.decode(page);
  if (raw.generation !== self.header.generation) return { slot, page: address, problem: 'payload and header generations differ' };
  if (raw.generation < 1 || metaSlotPage(raw.generation) !== address) return { slot, page: address, problem: `generation ${raw.generation} does not belong in this slot` };
  if (raw.pageCount < 3) return { slot, page: address, problem: `pageCount ${raw.pageCount} < 3` };
  return {
    slot,
    page: address,
    meta: {
      generation: raw.generation,
      pageCount: raw.pageCount,
      nextInodeId: raw.nextInodeId,
      fileCount: raw.fileCount,
      commitMs: raw.commitMs,
      catalogRoot: decodeBlockPointer(raw.catalogRoot),
      freeListHead: decodeBlockPointer(raw.freeListHead),
      snapshotRoot: decodeBlockPointer(raw.snapshotRoot),
      keyBlock: raw.keyBlock,
    },
  };
}

/**
 * The selection rule (§4): of the two slots, the valid one with the highest generation.
 * Throws E_CORRUPT naming both pages when neither is valid.
 */
export function selectMetaPage(slot0: Uint8Array, slot1: Uint8Array, ctx: PageContext): { chosen: MetaPage; slots: [MetaSlotResult, MetaSlotResult] } {
  const slots: [MetaSlotResult, MetaSlotResult] = [decodeMetaSlot(slot0, 0, ctx), decodeMetaSlot(slot1, 1, ctx)];
  const valid = slots.flatMap((s) => ('meta' in s ? [s.meta] : []));
  if (valid.length === 0) {
    const reasons = slots.map((s) => `page ${s.page}: ${'problem' in s ? s.problem : ''}`).join('; ');
    throw new DiskkitError(ErrorCode.CORRUPT, `no valid meta page (${reasons})`, { context: { pages: [1, 2] } });
  }
  const chosen = valid.reduce((a, b) => (b.generation > a.generation ? b : a));
  return { chosen, slots };
}

export function emptyMeta(generation: number, pageCount: number): MetaPage {
  return {
    generation,
    pageCount,
    nextInodeId: 2,
    fileCount: 0,
    commitMs: 0,
    catalogRoot: NULL_POINTER,
    freeListHead: NULL_POINTER,
    snapshotRoot: NULL_POINTER,
    keyBlock: new Uint8Array(KEY_BLOCK_SIZE),
  };
}

