/**
 * What bench measures: the image's format decides the workloads. A FAT image is
 * opened as a Volume (all workloads); anything else is a raw source, read whole
 * (sequential read only: the raw-read limit of the machine). MFT sources and
 * Cartridge images get their own branch here as those engines land.
 */
import type { BlockSource } from '../../io/block-source.js';
import type { Volume } from '../volume.js';

export type BenchFormat = 'fat' | 'raw';

export interface BenchTarget {
  path: string;
  format: BenchFormat;
  source: BlockSource;
  /** Present for formats with a file system. */
  volume: Volume | null;
  /** Why the target was treated the way it was (for the report). */
  note: string;
  /** Opens a writable volume on another path (a temporary copy), for write workloads; null when the format cannot write. */
  close(): void;
}


/**
 * Opens what bench measures: a FAT volume (whole image or a partition, chosen as every
 * command chooses) gets every workload; anything else — an NTFS volume, a raw dump, any
 * file — gets the sequential read of its bytes only (the raw-read limit).
 */
export async function openBenchTarget(path: string, options: { partition?: number } = {}): Promise<BenchTarget> {
  const [{ openImage }, { volumeOf }] = await Promise.all([import('../image.js'), import('../open-volume.js')]);
  const opened = openImage(path, { partition: options.partition });
  const source = opened.source;
  const where = opened.partition ? ` (partition ${opened.partition.index})` : '';
  const raw = (note: string): BenchTarget => ({ path, format: 'raw', source, volume: null, note, close: () => source.close() });
  if (opened.format !== 'fat') {
    return raw(opened.format === 'ntfs' ? `NTFS volume${where}: sequential read only (use 'diskkit mft bench' for the index)` : 'no file system recognised: reading the whole file (sequential read only)');
  }
  const volume: Volume = volumeOf(opened);
  return {
    path,
    format: 'fat',
    source: volume.source,
    volume,
    note: `FAT volume (${String(volume.info().fatType ?? volume.format)})${where}`,
    close: () => volume.close(),
  };
}
