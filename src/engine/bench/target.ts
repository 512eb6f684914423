/**
 * What bench measures: the image's format decides the workloads. A volume of a
 * format whose registry entry offers 'bench' is opened as a Volume (all workloads);
 * anything else is a raw source, read whole (sequential read only: the raw-read
 * limit of the machine).
 */
import type { BlockSource } from '../../io/block-source.js';
import type { Volume } from '../volume.js';

/** The format's registry name, or 'raw' for a source read as plain bytes. */
export type BenchFormat = string;

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
 * Opens what bench measures: a volume of a format whose registry entry offers bench
 * (whole image or a partition, chosen as every command chooses) gets every workload;
 * anything else — a volume of a format without it, a raw dump, any file — gets the
 * sequential read of its bytes only (the raw-read limit).
 */
export async function openBenchTarget(path: string, options: { partition?: number } = {}): Promise<BenchTarget> {
  const [{ openImage }, { volumeOf }] = await Promise.all([import('../image.js'), import('../open-volume.js')]);
  const opened = await openImage(path, { partition: options.partition });
  const source = opened.source;
  const where = opened.partition ? ` (partition ${opened.partition.index})` : '';
  const raw = (note: string): BenchTarget => ({ path, format: 'raw', source, volume: null, note, close: () => source.close() });
  const format = opened.definition;
  if (format === null) return raw('no file system recognised: reading the whole file (sequential read only)');
  if (!format.capabilities.includes('bench')) {
    return raw(`${format.title} volume${where}: sequential read only`);
  }
  const volume: Volume = await volumeOf(opened);
  const type = volume.info().details.find((d) => d.label === 'type')?.value ?? format.title;
  return {
    path,
    format: format.name,
    source: volume.source,
    volume,
    note: `${volume.format.toUpperCase()} volume (${type})${where}`,
    close: () => volume.close(),
  };
}
