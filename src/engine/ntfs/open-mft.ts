/**
 * Opening what `mft index` / `mft bench` were given and running the whole pipeline:
 * locate the MFT, scan it in the chosen read mode, build the index.
 *
 * A file or block device that is itself an $MFT dump or an NTFS volume is read
 * whole; a partitioned disk image goes through `openImage` (src/engine/image.ts),
 * which picks partition N, or the only NTFS partition when none is named.
 */
import { closeSync, openSync, statSync } from 'node:fs';
import { totalmem } from 'node:os';
import { FileBlockSource, MemoryBlockSource, SliceBlockSource, readBytes, type BlockSource } from '../../io/block-source.js';
import { ownDescriptor } from '../../io/host-stream.js';
import { readStreamChunk } from '../../io/read-full.js';
import { openImage } from '../image.js';
import { isNtfsBootSector } from './boot-sector.js';
import { SIGNATURE_BAAD, SIGNATURE_FILE } from './mft-record.js';
import { DiskkitError, ErrorCode, fromSystemError } from '../errors.js';
import { locateMft, type MftLayout } from './mft-source.js';
import { scanMft, type ScanMftOptions } from './scan-mft.js';
import { buildIndex, type BuildOptions, type MftIndex } from './mft-index.js';

export interface OpenMftOptions {
  partition?: number | undefined;
  /** Byte offset of the NTFS volume (or $MFT dump) in the image, as TSK's -o gives it in sectors. */
  offset?: number | undefined;
}

/** An NTFS boot sector or a FILE/BAAD record at the start of `source`. */
function startsWithNtfs(source: BlockSource): boolean {
  if (source.size < 512) return false;
  const first = readBytes(source, 0, 512);
  const signature = first.readUInt32LE(0);
  return isNtfsBootSector(first) || signature === SIGNATURE_FILE || signature === SIGNATURE_BAAD;
}

/** `-`, or a path that is a pipe or socket (`/dev/stdin` fed by `icat IMG 0 |`): it cannot be read at offsets. */
function isStream(path: string): boolean {
  if (path === '-') return true;
  try {
    const st = statSync(path);
    return st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}

/**
 * Reads a pipe to its end into memory: locating and scanning an MFT needs its size
 * and reads record 0 before the rest. Bounded by half the machine's memory.
 */
function readStream(path: string): MemoryBlockSource {
  const name = path === '-' ? 'stdin' : path;
  // Standard input (or another descriptor named as /dev/fd/N) is read through the
  // descriptor itself: reopening /dev/stdin fails when it is a socket (ENXIO), as it is
  // under some process runners.
  const own = path === '-' ? 0 : ownDescriptor(path);
  let fd = own ?? 0;
  if (own === null) {
    try {
      fd = openSync(path, 'r');
    } catch (error) {
      throw fromSystemError(error, name, 'open');
    }
  }
  const limit = Math.floor(totalmem() / 2);
  const parts: Buffer[] = [];
  let total = 0;
  try {
    for (;;) {
      const chunk = Buffer.allocUnsafe(4 << 20);
      const n = readStreamChunk(fd, chunk, 0, chunk.length, name);
      if (n === 0) break;
      total += n;
      if (total > limit) throw new DiskkitError(ErrorCode.LIMIT, `more than ${Math.round(limit / 2 ** 20)} MiB came through the pipe: too much to hold in memory`, { context: { image: name }, hint: 'write the dump to a file first (icat IMG 0 > mft.bin) and index the file' });
      parts.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    }
  } finally {
    if (own === null) closeSync(fd);
  }
  return new MemoryBlockSource(Buffer.concat(parts, total), name);
}

export async function openMftSource(path: string, options: OpenMftOptions = {}): Promise<BlockSource> {
  if (options.partition === undefined && isStream(path)) return readStream(path);
  if (options.offset !== undefined) {
    const whole = FileBlockSource.open(path);
    if (options.offset >= whole.size) {
      whole.close();
      throw new DiskkitError(ErrorCode.USAGE, `the offset is past the end of the image (${whole.size} bytes)`, { context: { image: path, offset: options.offset } });
    }
    const slice = new SliceBlockSource(whole, options.offset, whole.size - options.offset);
    if (startsWithNtfs(slice)) return slice;
    whole.close();
    throw new DiskkitError(ErrorCode.UNKNOWN_FORMAT, "no NTFS boot sector or FILE record at that offset", { context: { image: path, offset: options.offset } });
  }
  if (options.partition === undefined) {
    const whole = FileBlockSource.open(path);
    if (whole.size < 512) return whole;
    const first = readBytes(whole, 0, 512);
    const signature = first.readUInt32LE(0);
    if (isNtfsBootSector(first) || signature === SIGNATURE_FILE || signature === SIGNATURE_BAAD) return whole;
    whole.close();
  }
  const opened = await openImage(path, { partition: options.partition });
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
