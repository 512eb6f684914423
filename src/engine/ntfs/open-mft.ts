/**
 * Opening what `mft index` / `mft bench` were given and running the whole pipeline:
 * locate the MFT, scan it in the chosen read mode, build the index.
 *
 * Seam: partitioned disk images go through src/engine/image.ts `openImage` once it
 * is on main; until then a whole file or block device is opened directly and
 * `--partition` is rejected with a clear error.
 */
import { FileBlockSource, type BlockSource } from '../../io/block-source.js';
import { DiskkitError, ErrorCode } from '../errors.js';
import { locateMft, type MftLayout } from './mft-source.js';
import { scanMft, type ScanMftOptions } from './scan-mft.js';
import { buildIndex, type MftIndex } from './mft-index.js';

export interface OpenMftOptions {
  partition?: number | undefined;
}

export function openMftSource(path: string, options: OpenMftOptions = {}): BlockSource {
  if (options.partition !== undefined) {
    throw new DiskkitError(ErrorCode.UNSUPPORTED, '--partition is not available for mft yet (partition support is not merged)', { context: { image: path, partition: options.partition } });
  }
  return FileBlockSource.open(path);
}

export interface TimedIndex {
  index: MftIndex;
  layout: MftLayout;
  /** Seconds spent locating, reading and parsing the MFT and merging extensions. */
  seconds: number;
  bytesRead: number;
  mode: string;
  workers: number;
}

/** Locates, scans and indexes the MFT held by `source`. */
export async function indexMftSource(source: BlockSource, options: ScanMftOptions = {}): Promise<TimedIndex> {
  const t0 = performance.now();
  const layout = locateMft(source);
  const scanned = await scanMft(layout, options);
  const index = buildIndex(layout, scanned);
  return { index, layout, seconds: (performance.now() - t0) / 1000, bytesRead: scanned.bytesRead, mode: scanned.mode, workers: scanned.workers };
}
