/**
 * The Cartridge check behind `diskkit fsck` (docs/cartridge-format.md §11): every page a
 * tree reaches is verified against its parent's pointer (checksum or GCM tag), every
 * extent is read, verified and decompressed, the B+trees keep their order and balance,
 * the catalog's parent ids name directories and ids are unique, the counts in the meta
 * page agree, and every page is owned exactly once (the allocator against what is
 * reachable: orphans and double-owned pages). Findings name the page or extent by address.
 *
 * `repair` fixes what can be fixed without guessing: orphan pages go back to free space,
 * a free record covering a page the tree uses is cut back, wrong counts are rewritten;
 * all in one ordinary commit, so an interrupted repair leaves the image as it was.
 * Damaged file data is reported, never "repaired" into other bytes.
 */
import { count } from '../plural.js';
import { DiskkitError, ErrorCode, isDiskkitError } from '../errors.js';
import { type BlockPointer } from './block-pointer.js';
import { BTree } from './btree.js';
import { checkTree } from './btree-check.js';
import { type CartridgeFile, type WorkingKeys, closeCartridgeFile, commitCartridgeFile, openCartridgeFile } from './cartridge-file.js';
import { ROOT_DIRECTORY_ID, decodeCatalogKey } from './catalog-key.js';
import { extentContextOf } from './compact.js';
import { decompressExtent, openExtent } from './extent-codec.js';
import { EXTENT_RECORD_SIZE, type ExtentRecord, decodeExtentMapKey, decodeExtentRecord } from './extent-record.js';
import { InodeKind, decodeInodeRecord } from './inode-record.js';
import { countFreePages } from './free-space.js';
import { readFreeList } from './freelist-page.js';
import { checkPageOwnership } from './ownership.js';
import { type PageContext, PageType } from './page.js';
import { decodeMetaSlot, metaSlotPage } from './meta-page.js';
import { IncompatFeature, SUPERBLOCK_SIZE } from './superblock.js';
import { isPackKey, packIdOfKey } from './packs.js';
import { PackTally } from './pack-tally.js';
import { decodeSnapshotRecord } from './snapshot-record.js';

export interface CartridgeFinding {
  code: string;
  message: string;
  /** Page (or first page of the extent) the finding is about. */
  page?: number;
  /** Path inside the image, when the finding is about one file. */
  path?: string;
  omitted?: number;
}

export interface CartridgeCheckOptions {
  repair?: boolean;
  passphrase?: string;
  /** Keys already unlocked (OpenOptions.keys). */
  keys?: WorkingKeys;
  /** Findings listed per code; more are counted on a summary line. */
  listLimit?: number;
}

export interface CartridgeCheckStats {
  generation: number;
  pageCount: number;
  pageSize: number;
  files: number;
  directories: number;
  extents: number;
  snapshots: number;
  pagesVerified: number;
  bytesVerified: number;
  freePages: number;
}

export interface CartridgeCheck {
  clean: boolean;
  errors: CartridgeFinding[];
  repairs: { code: string; message: string }[];
  uncorrected: CartridgeFinding[];
  stats: CartridgeCheckStats;
}

/** Codes of the findings (stable: scripts match them). */
export const CartridgeFsckCode = {
  /** The image cannot be opened at all (no valid meta page, truncated, bad superblock). */
  UNREADABLE: 'E_FSCK_UNREADABLE',
  /** A page fails its checks (checksum, tag, header) or a B+tree breaks order or balance. */
  PAGE: 'E_FSCK_PAGE',
  /** An extent fails its checksum or tag, or does not decompress to its length. */
  EXTENT: 'E_FSCK_EXTENT',
  /** Catalog contents: a parent that is not a directory, a repeated id, a bad name. */
  CATALOG: 'E_FSCK_CATALOG',
  /** fileCount or nextInodeId in the meta page disagree with the catalog. */
  COUNT: 'E_FSCK_COUNT',
  /** A page nothing owns. */
  ORPHAN: 'E_FSCK_ORPHAN',
  /** A page two owners claim. */
  DOUBLE: 'E_FSCK_DOUBLE',
  /** The free list cannot be read or is inconsistent. */
  FREELIST: 'E_FSCK_FREELIST',
  /** A snapshot record that cannot be right. */
  SNAPSHOT: 'E_FSCK_SNAPSHOT',
  /** A meta slot that is damaged (not merely empty); the image opened at the other one. */
  META: 'E_FSCK_META',
  /** Bytes the format says are zero (superblock reserve) are not. */
  RESERVED: 'E_FSCK_RESERVED',
} as const;

const UNREADABLE_CODES = new Set<string>([ErrorCode.CORRUPT, ErrorCode.TRUNCATED, ErrorCode.UNKNOWN_FORMAT, ErrorCode.LIMIT, ErrorCode.SHORT_READ]);

function pageOf(error: DiskkitError): number | undefined {
  const page = error.context.page;
  return typeof page === 'number' ? page : undefined;
}

export async function checkCartridge(path: string, options: CartridgeCheckOptions = {}): Promise<CartridgeCheck> {
  const findings: CartridgeFinding[] = [];
  const stats: CartridgeCheckStats = { generation: 0, pageCount: 0, pageSize: 0, files: 0, directories: 0, extents: 0, snapshots: 0, pagesVerified: 0, bytesVerified: 0, freePages: 0 };
  const add = (code: string, message: string, extra: { page?: number; path?: string } = {}) => findings.push({ code, message, ...extra });
  const fromError = (code: string, error: unknown, where: { path?: string } = {}) => {
    if (!isDiskkitError(error)) throw error;
    add(code, error.message, { page: pageOf(error), ...where });
  };
  let file: CartridgeFile;
  /** Repair only: the free list did not read, the image opened without it, and the list is rebuilt. */
  let freeListLost = false;
  try {
    file = openCartridgeFile(path, { writable: options.repair, passphrase: options.passphrase, keys: options.keys });
  } catch (error) {
    if (!isDiskkitError(error)) throw error;
    let reopened: CartridgeFile | null = null;
    // A writable open reads the free list; when the image opens without it, that is what failed.
    if (options.repair && error.code !== ErrorCode.BAD_PASSPHRASE) {
      try {
        reopened = openCartridgeFile(path, { writable: true, skipFreeList: true, passphrase: options.passphrase, keys: options.keys });
      } catch {
        reopened = null;
      }
    }
    if (reopened === null) {
      if (!UNREADABLE_CODES.has(error.code)) throw error;
      fromError(error.message.startsWith('free list') ? CartridgeFsckCode.FREELIST : CartridgeFsckCode.UNREADABLE, error);
      // Nothing was repaired: the finding is uncorrected (with none listed, fsck exited 1, "all corrected").
      return finish(findings, findings, stats, options);
    }
    file = reopened;
    freeListLost = true;
    add(CartridgeFsckCode.FREELIST, `free list unreadable: ${error.message}`, { page: pageOf(error) });
  }
  const repairs: { code: string; message: string }[] = [];
  try {
    const pager = file.pager;
    stats.generation = file.meta.generation;
    stats.pageCount = file.meta.pageCount;
    stats.pageSize = pager.pageSize;
    const ctx = extentContextOf(file);
    const verifiedExtents = new Set<string>();
    const damagedSlots = checkFixedPages(file, add);
    const packedFiles = (file.superblock.incompatFeatures & IncompatFeature.PACKED_FILES) !== 0;

    /** One catalog (the current one or a snapshot's): tree shape, entries, extent maps, extents. */
    const checkCatalog = async (root: BlockPointer, label: string, counting: boolean) => {
      const tree = checkTree(pager, PageType.CATALOG_NODE, root);
      for (const p of tree.problems) add(CartridgeFsckCode.PAGE, `${label}catalog page ${p.page}: ${p.message}`, { page: p.page });
      stats.pagesVerified += tree.nodes;
      if (tree.problems.length > 0) return null;
      const ids = new Map<number, { parent: number; name: string; directory: boolean }>();
      const parents: { parent: number; id: number }[] = [];
      let maxId = 0;
      const pathOf = (id: number): string => {
        const parts: string[] = [];
        for (let at = ids.get(id), steps = 0; at && at.parent !== 0 && steps < 4096; at = ids.get(at.parent), steps++) parts.unshift(at.name);
        return '/' + parts.join('/');
      };
      const extentJobs: { id: number; root: BlockPointer; size: number }[] = [];
      const singleExtents: { id: number; record: Uint8Array; size: number; pack: boolean }[] = [];
      const packs = new PackTally();
      for (const [key, value] of new BTree(pager, PageType.CATALOG_NODE, root).range()) {
        let parent: number;
        let name: string;
        try {
          if (isPackKey(key)) {
            const pack = decodeInodeRecord(value, packedFiles);
            if (!packedFiles || pack.kind !== InodeKind.PACK || pack.id !== packIdOfKey(key) || pack.data.mode !== 'extent') {
              add(CartridgeFsckCode.CATALOG, `${label}pack key ${packIdOfKey(key)} holds ${packedFiles ? `an entry of kind ${pack.kind}, id ${pack.id}` : 'an entry, but the image has no PACKED_FILES'}`);
              continue;
            }
            if (ids.has(pack.id)) add(CartridgeFsckCode.CATALOG, `${label}id ${pack.id} is used by two entries`);
            ids.set(pack.id, { parent: 0, name: `pack ${pack.id}`, directory: false });
            maxId = Math.max(maxId, pack.id);
            packs.pack(pack.id, pack.links ?? 0, pack.size);
            singleExtents.push({ id: pack.id, record: pack.data.record, size: pack.size, pack: true });
            continue;
          }
          ({ parentId: parent, name } = decodeCatalogKey(key));
          const inode = decodeInodeRecord(value, packedFiles);
          if (inode.kind === InodeKind.PACK) throw new DiskkitError(ErrorCode.CORRUPT, `inode ${inode.id}: a pack outside a pack key`);
          if (ids.has(inode.id)) add(CartridgeFsckCode.CATALOG, `${label}id ${inode.id} is used by two entries`);
          ids.set(inode.id, { parent, name, directory: inode.kind === InodeKind.DIRECTORY });
          maxId = Math.max(maxId, inode.id);
          if (parent === 0 && inode.id !== ROOT_DIRECTORY_ID) add(CartridgeFsckCode.CATALOG, `${label}the root entry has id ${inode.id}, not ${ROOT_DIRECTORY_ID}`);
          if (parent !== 0) parents.push({ parent, id: inode.id });
          if (counting) {
            if (inode.kind === InodeKind.DIRECTORY) stats.directories++;
            else stats.files++;
          }
          if (inode.data.mode === 'extent-map') extentJobs.push({ id: inode.id, root: inode.data.root, size: inode.size });
          if (inode.data.mode === 'extent') singleExtents.push({ id: inode.id, record: inode.data.record, size: inode.size, pack: false });
          if (inode.data.mode === 'packed') packs.file(inode.id, inode.data.packId, inode.data.offset, inode.size);
        } catch (error) {
          fromError(CartridgeFsckCode.CATALOG, error);
        }
      }
      for (const { parent, id } of parents) {
        const dir = ids.get(parent);
        if (!dir || !dir.directory) add(CartridgeFsckCode.CATALOG, `${label}${pathOf(id)}: parent id ${parent} is ${dir ? 'not a directory' : 'missing'}`, { path: pathOf(id) });
      }
      for (const job of extentJobs) await checkExtents(job.root, `${label}${pathOf(job.id)}`);
      for (const job of singleExtents) {
        const where = job.pack ? `${label}pack ${job.id}` : `${label}${pathOf(job.id)}`;
        try {
          const record = decodeExtentRecord(job.record, 0, pager.pageSize, file.meta.pageCount);
          if (job.size > record.logicalLength || (job.pack && job.size !== record.logicalLength)) add(CartridgeFsckCode.EXTENT, `${where}: size ${job.size} disagrees with its extent's ${record.logicalLength} bytes`, { page: record.address });
          await verifyExtent(record, where);
        } catch (error) {
          fromError(CartridgeFsckCode.EXTENT, error, { path: where });
        }
      }
      for (const problem of packs.problems()) add(CartridgeFsckCode.CATALOG, `${label}${problem.file === undefined ? '' : `${pathOf(problem.file)}: `}${problem.message}`);
      return { entries: ids.size - packs.count, maxId };
    };

    const checkExtents = async (root: BlockPointer, path: string) => {
      const map = checkTree(pager, PageType.EXTENT_MAP_NODE, root);
      stats.pagesVerified += map.nodes;
      for (const p of map.problems) add(CartridgeFsckCode.PAGE, `${path}: extent map page ${p.page}: ${p.message}`, { page: p.page, path });
      if (map.problems.length > 0) return;
      let end = 0;
      for (const [key, value] of new BTree(pager, PageType.EXTENT_MAP_NODE, root).range()) {
        try {
          const offset = decodeExtentMapKey(key);
          if (offset < 0 || value.length !== EXTENT_RECORD_SIZE) throw new DiskkitError(ErrorCode.CORRUPT, 'extent map entry of the wrong size');
          const record = decodeExtentRecord(value, 0, pager.pageSize, file.meta.pageCount);
          if (offset < end) add(CartridgeFsckCode.EXTENT, `${path}: extent at page ${record.address} overlaps the one before it (file offset ${offset})`, { page: record.address, path });
          end = offset + record.logicalLength;
          await verifyExtent(record, path);
        } catch (error) {
          fromError(CartridgeFsckCode.EXTENT, error, { path });
        }
      }
    };

    /** Reads, verifies and decompresses one extent (once, however many trees share it). */
    const verifyExtent = async (record: ExtentRecord, path: string) => {
          const id = `${record.address}:${record.generation}`;
          if (verifiedExtents.has(id)) return;
          verifiedExtents.add(id);
          stats.extents++;
          const stored = pager.readRaw(record.address, record.pageCount);
          const bytes = openExtent(stored, record, ctx);
          await decompressExtent(bytes, record);
          // §9.1: the last page's tail is zero; nothing else covers those bytes.
          if (stored.subarray(record.storedLength).some((b) => b !== 0)) add(CartridgeFsckCode.EXTENT, `extent at page ${record.address}: bytes after its stored length are not zero (page ${record.address + record.pageCount - 1})`, { page: record.address, path });
          stats.bytesVerified += record.storedLength;
    };

    let current: { entries: number; maxId: number } | null = null;
    const snapshotGenerations: number[] = [];
    try {
      current = await checkCatalog(file.meta.catalogRoot, '', true);
    } catch (error) {
      fromError(CartridgeFsckCode.PAGE, error);
    }
    const countFixes: { fileCount?: number; nextInodeId?: number } = {};
    if (current) {
      if (current.entries - 1 !== file.meta.fileCount) {
        add(CartridgeFsckCode.COUNT, `meta page says ${file.meta.fileCount} files and directories, the catalog holds ${current.entries - 1}`);
        countFixes.fileCount = current.entries - 1;
      }
      if (file.meta.nextInodeId <= current.maxId) {
        add(CartridgeFsckCode.COUNT, `next inode id ${file.meta.nextInodeId} is not above the largest id in use (${current.maxId})`);
        countFixes.nextInodeId = current.maxId + 1;
      }
    }
    try {
      const table = checkTree(pager, PageType.SNAPSHOT_NODE, file.meta.snapshotRoot);
      for (const p of table.problems) add(CartridgeFsckCode.PAGE, `snapshot table page ${p.page}: ${p.message}`, { page: p.page });
      if (table.problems.length === 0) {
        for (const [key, value] of new BTree(pager, PageType.SNAPSHOT_NODE, file.meta.snapshotRoot).range()) {
          const name = new TextDecoder().decode(key);
          const snapshot = decodeSnapshotRecord(value);
          stats.snapshots++;
          snapshotGenerations.push(snapshot.generation);
          if (snapshot.generation < 1 || snapshot.generation >= file.meta.generation) {
            add(CartridgeFsckCode.SNAPSHOT, `snapshot ${name}: generation ${snapshot.generation} is not an earlier commit (now ${file.meta.generation})`);
            continue;
          }
          await checkCatalog(snapshot.catalogRoot, `snapshot ${name}: `, false);
        }
      }
    } catch (error) {
      fromError(CartridgeFsckCode.PAGE, error);
    }
    let ownership: ReturnType<typeof checkPageOwnership> | null = null;
    if (!findings.some((f) => f.code === CartridgeFsckCode.PAGE)) {
      try {
        ownership = checkPageOwnership(file, freeListLost);
      } catch (error) {
        fromError(CartridgeFsckCode.FREELIST, error);
      }
    }
    if (ownership) {
      for (const range of runs(ownership.orphans)) add(CartridgeFsckCode.ORPHAN, `${describeRun(range)}: owned by nothing (not reachable, not free)`, { page: range[0] });
      for (const d of ownership.doubleOwned) add(CartridgeFsckCode.DOUBLE, `page ${d.page}: claimed by ${d.owners.join(' and ')}`, { page: d.page });
      // From the list as read (a read-only check never loads it into the allocator), with the snapshots' pins.
      try {
        const records = freeListLost ? [] : readFreeList(pager, file.meta.freeListHead, file.meta.pageCount).records;
        stats.freePages = countFreePages(records, file.meta.pageCount, file.meta.generation, snapshotGenerations).reusable;
      } catch (error) {
        fromError(CartridgeFsckCode.FREELIST, error);
      }
    }

    if (options.repair && file.writable) {
      const fixable = new Set<string>([CartridgeFsckCode.ORPHAN, CartridgeFsckCode.COUNT, CartridgeFsckCode.META, CartridgeFsckCode.RESERVED]);
      if (freeListLost) fixable.add(CartridgeFsckCode.FREELIST);
      const pageProblems = findings.some((f) => !fixable.has(f.code) && f.code !== CartridgeFsckCode.DOUBLE);
      let changed = false;
      if (freeListLost && ownership && !pageProblems) {
        // The orphans freed below are every page nothing reaches: the new list, written by the commit.
        repairs.push({ code: CartridgeFsckCode.FREELIST, message: 'free list rebuilt from the pages nothing reaches' });
        changed = true;
      }
      if (ownership && !pageProblems) {
        for (const page of ownership.orphans) pager.freePages(page, 1, pager.generation);
        if (ownership.orphans.length > 0) {
          repairs.push({ code: CartridgeFsckCode.ORPHAN, message: `${count(ownership.orphans.length, 'orphan page')} returned to free space` });
          changed = true;
        }
        const cut = ownership.doubleOwned.filter((d) => d.owners.some((o) => o.startsWith('free')) && !d.owners.every((o) => o.startsWith('free')));
        for (const d of cut) pager.space.reserve(d.page, 1);
        if (cut.length > 0) {
          repairs.push({ code: CartridgeFsckCode.DOUBLE, message: `${count(cut.length, 'page')} in use taken out of free space` });
          changed = true;
        }
      }
      if (countFixes.fileCount !== undefined || countFixes.nextInodeId !== undefined) {
        repairs.push({ code: CartridgeFsckCode.COUNT, message: 'meta page counts rewritten from the catalog' });
        changed = true;
      }
      // A damaged slot the image does not use is cleared: the next commit writes it afresh.
      for (const slot of damagedSlots) pager.writeRaw(slot, new Uint8Array(pager.pageSize));
      if (damagedSlots.length > 0) {
        pager.sync();
        repairs.push({ code: CartridgeFsckCode.META, message: `damaged meta ${damagedSlots.length === 1 ? 'slot' : 'slots'} ${damagedSlots.map((p) => `page ${p}`).join(', ')} cleared` });
      }
      if (findings.some((f) => f.code === CartridgeFsckCode.RESERVED)) {
        const page0 = pager.readRaw(0, 1);
        page0.fill(0, SUPERBLOCK_SIZE);
        pager.writeRaw(0, page0);
        pager.sync();
        repairs.push({ code: CartridgeFsckCode.RESERVED, message: 'page 0: reserved bytes after the superblock zeroed' });
      }
      if (changed) {
        // §8: the commit's normalisation must know which generations snapshots pin.
        const pinned = [...new BTree(pager, PageType.SNAPSHOT_NODE, file.meta.snapshotRoot).range()].map(([, value]) => decodeSnapshotRecord(value).generation);
        pager.space.setSnapshotGenerations(pinned);
        commitCartridgeFile(file, countFixes);
      }
      const repairedCodes = new Set(repairs.map((r) => r.code));
      const uncorrected = findings.filter((f) => !repairedCodes.has(f.code) || (f.code === CartridgeFsckCode.DOUBLE && !f.message.includes('free')));
      return finish(findings, uncorrected, stats, options, repairs);
    }
    return finish(findings, findings, stats, options);
  } finally {
    closeCartridgeFile(file);
  }
}

/**
 * Pages 0–2, which no pointer covers: the superblock's reserve after byte 512 must be
 * zero, and a meta slot that does not verify is damage unless it is all zero (a slot
 * never written yet). SIGKILL cannot tear the one write of a meta page; a power cut can,
 * and then this finding says the image fell back to the other slot. Returns the damaged
 * slots' pages.
 */
function checkFixedPages(file: CartridgeFile, add: (code: string, message: string, extra?: { page?: number }) => void): number[] {
  const pager = file.pager;
  const page0 = pager.readRaw(0, 1);
  if (page0.subarray(SUPERBLOCK_SIZE).some((b) => b !== 0)) add(CartridgeFsckCode.RESERVED, `page 0: bytes ${SUPERBLOCK_SIZE}..${pager.pageSize - 1} after the superblock are not zero`, { page: 0 });
  const damaged: number[] = [];
  const ctx: PageContext = { ...pager.ctx, metaKey: null };
  for (const slot of [0, 1] as const) {
    const page = pager.readRaw(1 + slot, 1);
    const decoded = decodeMetaSlot(page, slot, ctx);
    if ('meta' in decoded || page.every((b) => b === 0)) continue;
    if (decoded.page === metaSlotPage(file.meta.generation)) continue;
    add(CartridgeFsckCode.META, `page ${decoded.page}: meta slot is damaged (${decoded.problem}); the image is at generation ${file.meta.generation} from page ${metaSlotPage(file.meta.generation)}`, { page: decoded.page });
    damaged.push(decoded.page);
  }
  return damaged;
}

/** Sorted page numbers as runs [first, last]. */
function runs(pages: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const p of [...pages].sort((a, b) => a - b)) {
    const last = out[out.length - 1];
    if (last && last[1] + 1 === p) last[1] = p;
    else out.push([p, p]);
  }
  return out;
}

function describeRun([first, last]: [number, number]): string {
  return first === last ? `page ${first}` : `pages ${first}..${last}`;
}

/** Caps each code's list (a wrecked image must not print a million lines); the rest is counted. */
function capped(findings: CartridgeFinding[], limit: number): CartridgeFinding[] {
  const perCode = new Map<string, number>();
  const out: CartridgeFinding[] = [];
  for (const f of findings) {
    const n = (perCode.get(f.code) ?? 0) + 1;
    perCode.set(f.code, n);
    if (n <= limit) out.push(f);
  }
  for (const [code, n] of perCode) if (n > limit) out.push({ code, message: `… and ${n - limit} more ${code}`, omitted: n - limit });
  return out;
}

function finish(errors: CartridgeFinding[], uncorrected: CartridgeFinding[], stats: CartridgeCheckStats, options: CartridgeCheckOptions, repairs: { code: string; message: string }[] = []): CartridgeCheck {
  const limit = options.listLimit ?? 100;
  return { clean: errors.length === 0, errors: capped(errors, limit), repairs, uncorrected: capped(uncorrected, limit), stats };
}
