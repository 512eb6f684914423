/**
 * A file's bytes as a FileDataSource over raw extents of a block source: what every
 * format that stores file bytes as they are (FAT, uncompressed NTFS runs) offers as
 * Volume.openFile. Positions map to extents by binary search over their starts, so a
 * file of thousands of fragments reads chunk by chunk without rescanning the list.
 */
import type { BlockSource } from '../io/block-source.js';
import type { EntryInfo, Extent, FileDataSource, Volume } from './volume.js';
import { DiskkitError, ErrorCode } from './errors.js';
import { FileDataBlockSource } from '../io/file-data-source.js';

export function extentReader(source: BlockSource, extents: readonly Extent[], size: number): FileDataSource {
  // starts[i] = file offset of extents[i]
  const starts = new Float64Array(extents.length);
  let total = 0;
  for (let i = 0; i < extents.length; i++) {
    starts[i] = total;
    total += extents[i]!.length;
  }
  if (total < size) {
    throw new DiskkitError(ErrorCode.CORRUPT, `file data covers ${total} of its ${size} bytes`, { context: { size, covered: total } });
  }
  return {
    size,
    rawExtents: () => extents as Extent[],
    read(buf, length, position) {
      if (position < 0 || length < 0 || position + length > size) {
        throw new DiskkitError(ErrorCode.SHORT_READ, `read of ${length} bytes at ${position} is past the end of a ${size}-byte file`, { context: { position, length, size } });
      }
      let lo = 0;
      let hi = extents.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if (starts[mid]! <= position) lo = mid;
        else hi = mid - 1;
      }
      let at = 0;
      for (let i = lo; at < length && i < extents.length; i++) {
        const e = extents[i]!;
        const within = position + at - starts[i]!;
        const n = Math.min(length - at, e.length - within);
        if (n <= 0) continue;
        source.readAt(buf, at, n, e.position + within);
        at += n;
      }
    },
  };
}

/**
 * The raw extents of a file where the volume offers them (capabilities.rawExtents),
 * else null: the caller reads through Volume.openFile instead. A volume that stores
 * only some files raw (NTFS) throws E_UNSUPPORTED for the others: null too.
 */
export function rawExtentsOf(volume: Volume, path: string | EntryInfo): Extent[] | null {
  if (!volume.capabilities.rawExtents || volume.fileExtents === undefined) return null;
  try {
    return volume.fileExtents(path);
  } catch (error) {
    if (error instanceof DiskkitError && error.code === ErrorCode.UNSUPPORTED) return null;
    throw error;
  }
}

/**
 * What the read modes scan to read a file: raw extents of the volume's own source
 * where the format offers them (the fast path), else the format's reader seen as a
 * source holding the file as one extent. Either way every --mode reads it.
 */
export function fileScanOf(volume: Volume, path: string | EntryInfo): { source: BlockSource; extents: Extent[] } {
  if (!volume.capabilities.rawExtents) return FileDataBlockSource.ofFile(volume.source.name, volume.openFile(path));
  // One lookup per file (cp -r does this per file): the reader says whether it is raw.
  const reader = volume.openFile(path);
  const raw = reader.rawExtents !== undefined ? reader.rawExtents() : rawExtentsOf(volume, path);
  if (raw !== null) return { source: volume.source, extents: raw };
  return FileDataBlockSource.ofFile(volume.source.name, reader);
}
