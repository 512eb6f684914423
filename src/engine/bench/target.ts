/**
 * What bench measures: the image's format decides the workloads. A FAT image is
 * opened as a Volume (all workloads); anything else is a raw source, read whole
 * (sequential read only: the raw-read limit of the machine). MFT sources and
 * Cartridge images get their own branch here as those engines land.
 */
import { FileBlockSource, readBytes, type BlockSource } from '../../io/block-source.js';
import { decodeBootSector } from '../fat/boot-sector.js';
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


function looksLikeFat(source: BlockSource): boolean {
  if (source.size < 512) return false;
  try {
    decodeBootSector(readBytes(source, 0, 512), source.size);
    return true;
  } catch {
    return false;
  }
}

export async function openBenchTarget(path: string): Promise<BenchTarget> {
  const source = FileBlockSource.open(path);
  const raw = (note: string): BenchTarget => ({ path, format: 'raw', source, volume: null, note, close: () => source.close() });
  if (!looksLikeFat(source)) return raw('no file system recognised: reading the whole file (sequential read only)');
  const { openVolume } = await import('../open-volume.js');
  let volume: Volume;
  try {
    volume = openVolume(path);
  } catch (error) {
    source.close();
    throw error;
  }
  return {
    path,
    format: 'fat',
    source: volume.source,
    volume,
    note: `FAT volume (${String(volume.info().format ?? volume.format)})`,
    close: () => {
      volume.close();
      source.close();
    },
  };
}
