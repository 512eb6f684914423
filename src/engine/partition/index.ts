/**
 * Partition tables: MBR (with its EBR chain) and GPT, behind one reader.
 */
import { ErrorCode, type DiskkitWarning } from '../errors.js';
import type { BlockSource } from '../../io/block-source.js';
import { decodeMbr, isProtectiveMbr, MBR_SIZE, readMbrPartitions } from './mbr.js';
import { readGpt } from './gpt.js';
import type { PartitionTable } from './partition.js';

export * from './partition.js';
export * from './mbr.js';
export * from './gpt.js';

/**
 * Reads the partition table of a disk image. A protective MBR (type 0xEE) or a
 * missing MBR sends the reader to the GPT; otherwise the MBR is used. Returns
 * scheme 'none' when there is no table. Throws E_PARTITION when a GPT is announced
 * but neither copy is usable; lesser damage is reported in `warnings`.
 */
export function readPartitionTable(source: BlockSource): PartitionTable {
  if (source.size < MBR_SIZE) return emptyTable([]);
  const sector = new Uint8Array(MBR_SIZE);
  source.readAt(sector, 0, MBR_SIZE, 0);
  const mbr = decodeMbr(sector);
  if (mbr === null || isProtectiveMbr(mbr)) {
    const gpt = readGpt(source);
    if (gpt !== null) {
      return { scheme: 'gpt', sectorSize: gpt.sectorSize, partitions: gpt.partitions, diskId: gpt.header.diskGuid, header: gpt.used, warnings: gpt.warnings };
    }
    if (mbr === null) return emptyTable([]);
    const warning: DiskkitWarning = { code: ErrorCode.PARTITION, message: 'protective MBR (type 0xEE) but no GPT header found; using the MBR entries' };
    const { partitions, warnings } = readMbrPartitions(source, mbr);
    return { scheme: 'mbr', sectorSize: 512, partitions, diskId: hexId(mbr.diskSignature), header: null, warnings: [warning, ...warnings] };
  }
  const { partitions, warnings } = readMbrPartitions(source, mbr);
  return { scheme: 'mbr', sectorSize: 512, partitions, diskId: hexId(mbr.diskSignature), header: null, warnings };
}

function hexId(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function emptyTable(warnings: DiskkitWarning[]): PartitionTable {
  return { scheme: 'none', sectorSize: 512, partitions: [], diskId: null, header: null, warnings };
}
