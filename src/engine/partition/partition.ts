/**
 * The scheme-neutral description of one partition, as the MBR and GPT readers
 * report it. Offsets and sizes are in bytes of the disk image.
 */
export interface Partition {
  /** 1-based number: MBR primaries 1..4 by slot, logicals from 5; GPT entry number. */
  index: number;
  scheme: 'mbr' | 'gpt';
  kind: 'primary' | 'logical' | 'gpt';
  /** Byte offset of the first sector. */
  start: number;
  /** Length in bytes. */
  size: number;
  /** Human name of the type ('FAT16 (LBA)', 'Microsoft basic data', or 'Unknown'). */
  type: string;
  /** The raw type: '0x0e' for MBR, the type GUID for GPT. */
  typeCode: string;
  /** GPT partition name (UTF-16 on disk), null for MBR. */
  name: string | null;
  /** GPT unique partition GUID, null for MBR. */
  guid: string | null;
  /** MBR active flag; GPT legacy BIOS bootable attribute (bit 2). */
  bootable: boolean;
}

export interface PartitionTable {
  scheme: 'mbr' | 'gpt' | 'none';
  /** Logical sector size the table's LBAs are counted in. */
  sectorSize: number;
  partitions: Partition[];
  /** MBR disk signature as 8 hex digits, or the GPT disk GUID; null without a table. */
  diskId: string | null;
  /** For GPT: which header was used ('backup' when the primary was damaged). */
  header: 'primary' | 'backup' | null;
  /** Recoverable damage met while reading (bad primary GPT, broken EBR chain...). */
  warnings: import('../errors.js').DiskkitWarning[];
}

/** One line per partition: "1: start 1048576, size 4194304, FAT16 (0x06)". */
export function describePartitions(partitions: readonly Partition[]): string {
  if (partitions.length === 0) return '(no partitions)';
  return partitions.map((p) => `${p.index}: start ${p.start}, size ${p.size}, ${p.type} (${p.typeCode})${p.name ? ` "${p.name}"` : ''}`).join('; ');
}
