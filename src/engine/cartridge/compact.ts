/**
 * `diskkit compact` (docs/cartridge-format.md §16): moves live pages and extents down
 * into free space and truncates the file. Each pass is two ordinary commits, so the
 * image is valid at every instant: pass t copies pages above the target into holes
 * below it (holes the fallback tree t − 1 does not use), commits the tree that points at
 * the copies (the old homes are freed by t), then commits t + 1, at which those homes are
 * reusable, become clean, and the clean tail is cut off once meta t + 1 is durable.
 *
 * With snapshots, pages a snapshot reaches (born at or before the newest snapshot's
 * generation) stay where they are: moving them would leave the snapshot's copy pinned
 * and add a second one. Deleting snapshots first gives a full compaction.
 */
import { BTree } from './btree.js';
import { type CartridgeFile, commitCartridgeFile } from './cartridge-file.js';
import { type ExtentContext } from './extent-codec.js';
import { PageType } from './page.js';
import { Relocator } from './relocate.js';
import { decodeSnapshotRecord } from './snapshot-record.js';
import { DiskkitError, ErrorCode } from '../errors.js';

export interface CompactOptions {
  /** Fixed commit time (reproducible images). */
  nowMs?: number;
  /** Passes at most (each is two commits); compaction stops earlier when a pass gains nothing. */
  maxPasses?: number;
  /** Called after each commit (the crash test kills between them). */
  onCommit?: (generation: number) => void;
}

export interface CompactReport {
  pagesBefore: number;
  pagesAfter: number;
  pageSize: number;
  passes: number;
  pagesMoved: number;
  extentsMoved: number;
  bytesMoved: number;
  /** Pages left in place because a snapshot reaches them. */
  snapshots: number;
}

export function extentContextOf(file: CartridgeFile): ExtentContext {
  const sb = file.superblock;
  return { pageSize: sb.pageSize, checksumAlgorithm: sb.checksumAlgorithm, uuid: sb.uuid, dataKey: file.keys ? file.keys.data : null };
}

export function compactCartridge(file: CartridgeFile, options: CompactOptions = {}): CompactReport {
  if (!file.writable) throw new DiskkitError(ErrorCode.UNSUPPORTED, 'image was opened read-only', { context: { path: file.path } });
  const pager = file.pager;
  const space = pager.space;
  const snapshotGenerations = [...new BTree(pager, PageType.SNAPSHOT_NODE, file.meta.snapshotRoot).range()].map(([, value]) => decodeSnapshotRecord(value).generation);
  space.setSnapshotGenerations(snapshotGenerations);
  const newestSnapshot = Math.max(0, ...snapshotGenerations);
  const report: CompactReport = {
    pagesBefore: file.meta.pageCount,
    pagesAfter: file.meta.pageCount,
    pageSize: pager.pageSize,
    passes: 0,
    pagesMoved: 0,
    extentsMoved: 0,
    bytesMoved: 0,
    snapshots: snapshotGenerations.length,
  };
  const commit = (changes: Parameters<typeof commitCartridgeFile>[1]) => {
    commitCartridgeFile(file, { commitMs: options.nowMs, ...changes });
    options.onCommit?.(file.meta.generation);
  };
  const ctx = extentContextOf(file);
  for (let pass = 0; pass < (options.maxPasses ?? 8); pass++) {
    const before = space.pageCount;
    // Everything at or above the target has a reusable hole waiting below it.
    const target = space.pageCount - space.reusablePages();
    if (target >= space.pageCount) break;
    const relocator = new Relocator({
      source: pager,
      target: pager,
      sourceExtents: ctx,
      targetExtents: ctx,
      freeOld: true,
      shouldMove: (address, count, generation) => generation > newestSnapshot && address + count > target,
      place: (count, from) => {
        const at = space.allocate(count);
        if (at < from) return at;
        // No hole below it (fragmentation): give the run back and leave the extent where it is.
        space.free(at, count, space.generation);
        return null;
      },
    });
    const catalogRoot = relocator.catalog(file.meta.catalogRoot);
    const snapshotRoot = relocator.snapshotTable(file.meta.snapshotRoot);
    commit({ catalogRoot, snapshotRoot });
    // The old homes were freed by that commit; from the next one they are reusable, clean, and the tail goes.
    commit({});
    report.passes++;
    report.pagesMoved += relocator.counts.pagesMoved;
    report.extentsMoved += relocator.counts.extentsMoved;
    report.bytesMoved += relocator.counts.bytesMoved;
    if (space.pageCount >= before) break;
  }
  report.pagesAfter = file.meta.pageCount;
  return report;
}
