/**
 * Opening what `mft index` / `mft bench` were given and running the whole pipeline:
 * locate the MFT, scan it in the chosen read mode, build the index.
 *
 * A file or block device that is itself an $MFT dump or an NTFS volume is read
 * whole; a partitioned disk image goes through `openImage` (src/engine/image.ts),
 * which picks partition N, or the only NTFS partition when none is named.
 */
import { FileBlockSource, readBytes, type BlockSource } from '../../io/block-source.js';
import { openImage } from '../image.js';
import { isNtfsBootSector } from './boot-sector.js';
import { SIGNATURE_BAAD, SIGNATURE_FILE } from './mft-record.js';
import { DiskkitError, ErrorCode } from '../errors.js';
import { locateMft, type MftLayout } from './mft-source.js';
import { scanMft, type ScanMftOptions } from './scan-mft.js';
import { buildIndex, type BuildOptions, type MftIndex } from './mft-index.js';

export interface OpenMftOptions {
  partition?: number | undefined;
}

export function openMftSource(path: string, options: OpenMftOptions = {}): BlockSource {
  if (options.partition === undefined) {
    const whole = FileBlockSource.open(path);
    if (whole.size < 512) return whole;
    const first = readBytes(whole, 0, 512);
    const signature = first.readUInt32LE(0);
    if (isNtfsBootSector(first) || signature === SIGNATURE_FILE || signature === SIGNATURE_BAAD) return whole;
    whole.close();
  }
  const opened = openImage(path, { partition: options.partition });
  if (opened.format !== 'ntfs') {
    opened.source.close();
    const what = opened.format === 'fat' ? 'holds a FAT file system, not NTFS' : 'is neither an NTFS volume nor an $MFT dump (no NTFS boot sector, no FILE record at byte 0)';
    throw new DiskkitError(ErrorCode.UNKNOWN_FORMAT, opened.partition ? `partition ${opened.partition.index} ${what}` : `neither an NTFS volume nor an $MFT dump (no NTFS boot sector, no FILE record at byte 0, no NTFS partition)`, {
      context: { image: path, partition: options.partition },
    });
  }
  return opened.source;
}

export interface TimedIndex {
  index: MftIndex;
  layout: MftLayout;
  /** Seconds spent locating, reading and parsing the MFT and merging extensions. */
  seconds: number;
  bytesRead: number;
  mode: string;
  /** Why auto picked the mode (null when one was asked for). */
  autoReason: string | null;
  workers: number;
  scan: import('../../io/scan.js').ScanResult;
}

/** Locates, scans and indexes the MFT held by `source`. */
export async function indexMftSource(source: BlockSource, options: ScanMftOptions & BuildOptions = {}): Promise<TimedIndex> {
  const t0 = performance.now();
  const layout = locateMft(source);
  const scanned = await scanMft(layout, options);
  const index = buildIndex(layout, scanned, options);
  return { index, layout, seconds: (performance.now() - t0) / 1000, bytesRead: scanned.bytesRead, mode: scanned.mode, autoReason: scanned.autoReason, workers: scanned.workers, scan: scanned.scan };
}
