/**
 * Changing a volume's label (mlabel): the label lives twice, in the boot sector's
 * extended BPB (BS_VolLab, only where the extended boot signature 0x29 says the field
 * exists; fatgen103 section 3.2) and as the root directory's VOLUME_ID entry
 * (fatgen103 section 6). Both are written together so that Windows, Linux, mtools
 * and fsck.fat agree; FAT32's backup boot sector gets the same bytes, since fsck.fat
 * compares the two copies.
 */
import { readBytes } from '../../io/block-source.js';
import { EXTENDED_BOOT_SIGNATURE } from './boot-sector.js';
import { Attr, encodeDosDateTime, encodeRawName, type DirEntry } from './dir-entry.js';
import { bootLabelOffset, NO_NAME } from './fsck/volume-label.js';
import { validateVolumeLabel } from './mkfs.js';
import type { BlockSource } from '../../io/block-source.js';
import type { BootSector } from './boot-sector.js';

/** What writing a label needs of a FAT volume (structural, so this module does not import volume.ts back). */
export interface LabelTarget {
  readonly source: BlockSource;
  readonly boot: BootSector;
  readonly writer: { setRootLabelEntry(entry: DirEntry | null): void };
}

/** Offset of BS_BootSig: FAT12/16 38, FAT32 66. */
function extendedSignatureOffset(fatType: string): number {
  return fatType === 'fat32' ? 66 : 38;
}

/**
 * Sets the label (validated and upper-cased as mkfs -n is), or removes it with null:
 * the root entry is deleted and the boot sector says "NO NAME". Returns the label as
 * stored. The volume must be open for writing; the caller flushes (close does).
 */
export function writeVolumeLabel(volume: LabelTarget, input: string | null, when: Date): string | null {
  const label = input === null ? null : validateVolumeLabel(input).label;
  const raw = label === null ? NO_NAME : encodeRawName(label.padEnd(11, ' '));
  const t = encodeDosDateTime(when);
  const entry: DirEntry | null =
    label === null
      ? null
      : { rawName: raw, attributes: Attr.VOLUME_ID, ntFlags: 0, createTimeTenth: t.tenths, createTime: t.time, createDate: t.date, accessDate: t.date, writeTime: t.time, writeDate: t.date, startCluster: 0, fileSize: 0 };
  volume.writer.setRootLabelEntry(entry);
  const boot = volume.boot;
  const bps = boot.bytesPerSector;
  const sectors = [0];
  if (boot.fatType === 'fat32' && boot.backupBootSector > 0 && boot.backupBootSector < boot.reservedSectors) sectors.push(boot.backupBootSector);
  for (const sector of sectors) {
    const bytes = readBytes(volume.source, sector * bps, bps);
    // Without the extended signature there is no label field: those bytes may be boot code.
    if (bytes[extendedSignatureOffset(boot.fatType)] !== EXTENDED_BOOT_SIGNATURE) continue;
    bytes.set(raw, bootLabelOffset(boot));
    volume.source.writeAt(bytes, 0, bps, sector * bps);
  }
  return label;
}
