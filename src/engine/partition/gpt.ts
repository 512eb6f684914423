/**
 * The GUID Partition Table (UEFI 2.10 section 5.3). The primary header sits at LBA 1,
 * its entry array usually at LBA 2; a backup header sits in the last LBA of the disk,
 * its array just before it. Both the header (over HeaderSize bytes, CRC field zeroed)
 * and the entry array are protected by CRC32 (section 5.3.2). When the primary is
 * damaged the backup is used, as the specification's validation rules ask.
 *
 * The logical block size is not recorded anywhere; 512-byte and 4096-byte sectors
 * are both tried (the header at byte 512 or byte 4096).
 */
import { crc32 } from 'node:zlib';
import { defineStruct } from '../struct.js';
import { checkBound } from '../binary.js';
import { DiskkitError, ErrorCode, isDiskkitError, type DiskkitWarning } from '../errors.js';
import type { BlockSource } from '../../io/block-source.js';
import type { Partition } from './partition.js';

export const GPT_SIGNATURE = 'EFI PART';
export const GPT_REVISION_1_0 = 0x00010000;
export const GPT_HEADER_MIN_SIZE = 92;
export const GPT_ENTRY_MIN_SIZE = 128;
/** Sector sizes tried, in order. */
export const GPT_SECTOR_SIZES = [512, 4096] as const;
/** Safety limits for counts read from disk (real tables: 128 entries of 128 bytes). */
export const GPT_MAX_ENTRY_SIZE = 4096;
export const GPT_MAX_ENTRY_COUNT = 65536;
export const GPT_MAX_ARRAY_BYTES = 4 * 1024 * 1024;

/** UEFI 2.10 table 5.21, GPT header. */
export const GptHeaderStruct = defineStruct('GPT header', GPT_HEADER_MIN_SIZE, {
  signature: { offset: 0, type: { bytes: 8 } },
  revision: { offset: 8, type: 'u32' },
  headerSize: { offset: 12, type: 'u32' },
  headerCrc32: { offset: 16, type: 'u32' },
  reserved: { offset: 20, type: 'u32' },
  myLba: { offset: 24, type: 'u64' },
  alternateLba: { offset: 32, type: 'u64' },
  firstUsableLba: { offset: 40, type: 'u64' },
  lastUsableLba: { offset: 48, type: 'u64' },
  diskGuid: { offset: 56, type: { bytes: 16 } },
  partitionEntryLba: { offset: 72, type: 'u64' },
  numberOfPartitionEntries: { offset: 80, type: 'u32' },
  sizeOfPartitionEntry: { offset: 84, type: 'u32' },
  partitionEntryArrayCrc32: { offset: 88, type: 'u32' },
});

/**
 * UEFI 2.10 table 5.22, GPT partition entry. Attributes are kept as bytes: the
 * type-specific bits 48..63 do not fit a JavaScript number.
 */
export const GptEntryStruct = defineStruct('GPT partition entry', GPT_ENTRY_MIN_SIZE, {
  partitionTypeGuid: { offset: 0, type: { bytes: 16 } },
  uniquePartitionGuid: { offset: 16, type: { bytes: 16 } },
  startingLba: { offset: 32, type: 'u64' },
  endingLba: { offset: 40, type: 'u64' },
  attributes: { offset: 48, type: { bytes: 8 } },
  partitionName: { offset: 56, type: { bytes: 72 } },
});

const HEADER_CRC_OFFSET = 16;
/** Attribute bit 2: legacy BIOS bootable (UEFI 2.10 table 5.23). */
const ATTRIBUTE_LEGACY_BIOS_BOOTABLE = 0x04;

export interface GptHeader {
  revision: number;
  headerSize: number;
  myLba: number;
  alternateLba: number;
  firstUsableLba: number;
  lastUsableLba: number;
  diskGuid: string;
  partitionEntryLba: number;
  numberOfPartitionEntries: number;
  sizeOfPartitionEntry: number;
  partitionEntryArrayCrc32: number;
}

export interface GptEntry {
  typeGuid: string;
  uniqueGuid: string;
  startingLba: number;
  /** Inclusive. */
  endingLba: number;
  attributes: Uint8Array;
  name: string;
}

export const ZERO_GUID = '00000000-0000-0000-0000-000000000000';

/** Common partition type GUIDs (UEFI 2.10 table 5.24 and the OS vendors' lists). */
const GPT_TYPE_NAMES: Record<string, string> = {
  'C12A7328-F81F-11D2-BA4B-00A0C93EC93B': 'EFI System',
  '21686148-6449-6E6F-744E-656564454649': 'BIOS boot',
  'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7': 'Microsoft basic data',
  'E3C9E316-0B5C-4DB8-817D-F92DF00215AE': 'Microsoft reserved',
  'DE94BBA4-06D1-4D40-A16A-BFD50179D6AC': 'Windows recovery',
  '0FC63DAF-8483-4772-8E79-3D69D8477DE4': 'Linux filesystem',
  '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F': 'Linux swap',
  'E6D6D379-F507-44C2-A23C-238F2A3DF928': 'Linux LVM',
  'A19D880F-05FC-4D3B-A006-743F0F84911E': 'Linux RAID',
  '48465300-0000-11AA-AA11-00306543ECAC': 'Apple HFS+',
  '7C3457EF-0000-11AA-AA11-00306543ECAC': 'Apple APFS',
};

export function gptTypeName(guid: string): string {
  return GPT_TYPE_NAMES[guid.toUpperCase()] ?? 'Unknown';
}

/** GUIDs are stored mixed-endian: the first three groups little-endian, the rest as bytes. */
export function decodeGuid(bytes: Uint8Array): string {
  const hex = (from: number, to: number, reverse: boolean): string => {
    const part = Array.from(bytes.subarray(from, to), (b) => b.toString(16).padStart(2, '0'));
    return (reverse ? part.reverse() : part).join('');
  };
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`.toUpperCase();
}

export function encodeGuid(guid: string): Uint8Array {
  const digits = guid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(digits)) throw new Error(`not a GUID: ${guid}`);
  const bytes = Uint8Array.from(digits.match(/../g)!, (h) => parseInt(h, 16));
  bytes.subarray(0, 4).reverse();
  bytes.subarray(4, 6).reverse();
  bytes.subarray(6, 8).reverse();
  return bytes;
}

const utf16 = new TextDecoder('utf-16le');

function decodeName(bytes: Uint8Array): string {
  let end = 0;
  while (end + 1 < bytes.length && (bytes[end] !== 0 || bytes[end + 1] !== 0)) end += 2;
  return utf16.decode(bytes.subarray(0, end));
}

function encodeName(name: string): Uint8Array {
  const out = new Uint8Array(72);
  const units = Math.min(name.length, 36);
  for (let i = 0; i < units; i++) {
    const unit = name.charCodeAt(i);
    out[i * 2] = unit & 0xff;
    out[i * 2 + 1] = unit >> 8;
  }
  return out;
}

/** CRC32 of a header of `headerSize` bytes with its CRC field taken as zero. */
export function gptHeaderCrc(sector: Uint8Array, headerSize: number): number {
  const copy = Uint8Array.prototype.slice.call(sector, 0, headerSize);
  copy.fill(0, HEADER_CRC_OFFSET, HEADER_CRC_OFFSET + 4);
  return crc32(copy);
}

/** A header read from one location, or why it was refused. */
type HeaderResult = { ok: true; header: GptHeader } | { ok: false; reason: string; signature: boolean };

/**
 * Decodes and checks a GPT header held in `sector` (one logical block), which was
 * read from `lba`: signature, header size, header CRC, MyLBA (UEFI 2.10 section 5.3.2).
 */
export function decodeGptHeader(sector: Uint8Array, lba: number): HeaderResult {
  let raw;
  try {
    raw = GptHeaderStruct.decode(sector);
  } catch (error) {
    if (isDiskkitError(error)) return { ok: false, reason: error.message, signature: false };
    throw error;
  }
  if (Buffer.from(raw.signature).toString('latin1') !== GPT_SIGNATURE) return { ok: false, reason: 'no "EFI PART" signature', signature: false };
  if (raw.headerSize < GPT_HEADER_MIN_SIZE || raw.headerSize > sector.length) {
    return { ok: false, reason: `header size ${raw.headerSize} is outside ${GPT_HEADER_MIN_SIZE}..${sector.length}`, signature: true };
  }
  const crc = gptHeaderCrc(sector, raw.headerSize);
  if (crc !== raw.headerCrc32) {
    return { ok: false, reason: `header CRC32 mismatch (stored ${hex32(raw.headerCrc32)}, computed ${hex32(crc)})`, signature: true };
  }
  if (raw.myLba !== lba) return { ok: false, reason: `header says it is at LBA ${raw.myLba}, found at LBA ${lba}`, signature: true };
  return {
    ok: true,
    header: {
      revision: raw.revision,
      headerSize: raw.headerSize,
      myLba: raw.myLba,
      alternateLba: raw.alternateLba,
      firstUsableLba: raw.firstUsableLba,
      lastUsableLba: raw.lastUsableLba,
      diskGuid: decodeGuid(raw.diskGuid),
      partitionEntryLba: raw.partitionEntryLba,
      numberOfPartitionEntries: raw.numberOfPartitionEntries,
      sizeOfPartitionEntry: raw.sizeOfPartitionEntry,
      partitionEntryArrayCrc32: raw.partitionEntryArrayCrc32,
    },
  };
}

/** Encodes `header` into `sector` (92 bytes used, rest left) and fills in the header CRC. */
export function encodeGptHeader(header: GptHeader, sector: Uint8Array): void {
  GptHeaderStruct.encode(
    {
      signature: Buffer.from(GPT_SIGNATURE, 'latin1'),
      revision: header.revision,
      headerSize: header.headerSize,
      headerCrc32: 0,
      reserved: 0,
      myLba: header.myLba,
      alternateLba: header.alternateLba,
      firstUsableLba: header.firstUsableLba,
      lastUsableLba: header.lastUsableLba,
      diskGuid: encodeGuid(header.diskGuid),
      partitionEntryLba: header.partitionEntryLba,
      numberOfPartitionEntries: header.numberOfPartitionEntries,
      sizeOfPartitionEntry: header.sizeOfPartitionEntry,
      partitionEntryArrayCrc32: header.partitionEntryArrayCrc32,
    },
    sector,
  );
  GptHeaderStruct.encode({ headerCrc32: gptHeaderCrc(sector, header.headerSize) }, sector);
}

export function decodeGptEntry(buf: Uint8Array, offset: number): GptEntry {
  const raw = GptEntryStruct.decode(buf, offset);
  return {
    typeGuid: decodeGuid(raw.partitionTypeGuid),
    uniqueGuid: decodeGuid(raw.uniquePartitionGuid),
    startingLba: raw.startingLba,
    endingLba: raw.endingLba,
    attributes: raw.attributes,
    name: decodeName(raw.partitionName),
  };
}

export function encodeGptEntry(entry: GptEntry, buf: Uint8Array, offset: number): void {
  GptEntryStruct.encode(
    {
      partitionTypeGuid: encodeGuid(entry.typeGuid),
      uniquePartitionGuid: encodeGuid(entry.uniqueGuid),
      startingLba: entry.startingLba,
      endingLba: entry.endingLba,
      attributes: entry.attributes,
      partitionName: encodeName(entry.name),
    },
    buf,
    offset,
  );
}

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** Reads and checks the entry array a valid header points at. Throws a DiskkitError saying what is wrong. */
function readEntryArray(source: BlockSource, header: GptHeader, sectorSize: number): Uint8Array {
  const entrySize = checkBound(header.sizeOfPartitionEntry, GPT_MAX_ENTRY_SIZE, 'GPT partition entry size');
  // UEFI 2.10 section 5.3.2: SizeOfPartitionEntry is 128 x 2^n.
  if (entrySize < GPT_ENTRY_MIN_SIZE || (entrySize & (entrySize - 1)) !== 0) {
    throw new DiskkitError(ErrorCode.PARTITION, `GPT partition entry size ${entrySize} is not 128 x 2^n`, { context: { field: 'sizeOfPartitionEntry', value: entrySize } });
  }
  const count = checkBound(header.numberOfPartitionEntries, GPT_MAX_ENTRY_COUNT, 'GPT partition entry count');
  const bytes = checkBound(count * entrySize, GPT_MAX_ARRAY_BYTES, 'GPT partition entry array size');
  const position = header.partitionEntryLba * sectorSize;
  if (header.partitionEntryLba < 1 || position + bytes > source.size) {
    throw new DiskkitError(ErrorCode.PARTITION, `GPT entry array at LBA ${header.partitionEntryLba} lies outside the image`, {
      context: { field: 'partitionEntryLba', value: header.partitionEntryLba },
    });
  }
  const array = new Uint8Array(bytes);
  source.readAt(array, 0, bytes, position);
  const crc = crc32(array);
  if (crc !== header.partitionEntryArrayCrc32) {
    throw new DiskkitError(ErrorCode.PARTITION, `entry array CRC32 mismatch (stored ${hex32(header.partitionEntryArrayCrc32)}, computed ${hex32(crc)})`, {
      context: { field: 'partitionEntryArrayCrc32' },
    });
  }
  return array;
}

function readHeaderAt(source: BlockSource, lba: number, sectorSize: number): HeaderResult {
  if (lba < 1 || (lba + 1) * sectorSize > source.size) return { ok: false, reason: `LBA ${lba} is outside the image`, signature: false };
  const sector = new Uint8Array(sectorSize);
  source.readAt(sector, 0, sectorSize, lba * sectorSize);
  return decodeGptHeader(sector, lba);
}

export interface GptTable {
  sectorSize: number;
  header: GptHeader;
  /** Which copy was used. */
  used: 'primary' | 'backup';
  partitions: Partition[];
  warnings: DiskkitWarning[];
}

/** Tries one header location: header checks, then the entry array. */
function tryCopy(source: BlockSource, lba: number, sectorSize: number): { header: GptHeader; array: Uint8Array } | { reason: string; signature: boolean } {
  const result = readHeaderAt(source, lba, sectorSize);
  if (!result.ok) return { reason: result.reason, signature: result.signature };
  try {
    return { header: result.header, array: readEntryArray(source, result.header, sectorSize) };
  } catch (error) {
    if (isDiskkitError(error)) return { reason: error.message, signature: true };
    throw error;
  }
}

/**
 * Reads the GPT of `source`: the primary copy, else the backup (with a warning).
 * Returns null when neither a 512- nor a 4096-byte sector layout holds a GPT
 * signature; throws E_PARTITION when a GPT is there but both copies are damaged.
 */
export function readGpt(source: BlockSource, sectorSizes: readonly number[] = GPT_SECTOR_SIZES): GptTable | null {
  const failures: string[] = [];
  for (const sectorSize of sectorSizes) {
    const primary = tryCopy(source, 1, sectorSize);
    if ('header' in primary) return buildTable(primary.header, primary.array, sectorSize, 'primary', []);
    const lastLba = Math.floor(source.size / sectorSize) - 1;
    const backup = tryCopy(source, lastLba, sectorSize);
    if ('header' in backup) {
      const warning: DiskkitWarning = {
        code: ErrorCode.PARTITION,
        message: `primary GPT header is damaged (${primary.reason}); using the backup at LBA ${lastLba}`,
        context: { offset: sectorSize },
      };
      return buildTable(backup.header, backup.array, sectorSize, 'backup', [warning]);
    }
    if (primary.signature || backup.signature) failures.push(`${sectorSize}-byte sectors: primary: ${primary.reason}; backup: ${backup.reason}`);
  }
  if (failures.length === 0) return null;
  throw new DiskkitError(ErrorCode.PARTITION, `GPT is damaged and its backup too (${failures.join('; ')})`, {
    context: { image: source.name },
    hint: 'sgdisk --verify can show more; gdisk can rebuild the table',
  });
}

function buildTable(header: GptHeader, array: Uint8Array, sectorSize: number, used: 'primary' | 'backup', warnings: DiskkitWarning[]): GptTable {
  const partitions: Partition[] = [];
  for (let i = 0; i < header.numberOfPartitionEntries; i++) {
    let entry: GptEntry;
    try {
      entry = decodeGptEntry(array, i * header.sizeOfPartitionEntry);
    } catch (error) {
      if (!isDiskkitError(error)) throw error;
      warnings.push({ code: ErrorCode.PARTITION, message: `GPT entry ${i + 1} unreadable: ${error.message}`, context: { partition: i + 1 } });
      continue;
    }
    if (entry.typeGuid === ZERO_GUID) continue;
    if (entry.endingLba < entry.startingLba) {
      warnings.push({ code: ErrorCode.PARTITION, message: `GPT entry ${i + 1} ends (LBA ${entry.endingLba}) before it starts (LBA ${entry.startingLba}); ignored`, context: { partition: i + 1 } });
      continue;
    }
    // UEFI 2.10 section 5.3.3: every partition lies within FirstUsableLBA..LastUsableLBA. One that
    // starts earlier overlaps the GPT header or entry array (writing to it would destroy the table);
    // one that ends later overlaps the backup array. Such an entry is reported and not offered.
    if (entry.startingLba < header.firstUsableLba || entry.endingLba > header.lastUsableLba) {
      const where =
        entry.startingLba < header.firstUsableLba
          ? `starts at LBA ${entry.startingLba}, before the first usable LBA ${header.firstUsableLba} (it would overlap the GPT header or entry array)`
          : `ends at LBA ${entry.endingLba}, after the last usable LBA ${header.lastUsableLba} (it would overlap the backup GPT)`;
      warnings.push({ code: ErrorCode.PARTITION, message: `GPT entry ${i + 1} ${where}; ignored`, context: { partition: i + 1 } });
      continue;
    }
    partitions.push({
      index: i + 1,
      scheme: 'gpt',
      kind: 'gpt',
      start: entry.startingLba * sectorSize,
      size: (entry.endingLba - entry.startingLba + 1) * sectorSize,
      type: gptTypeName(entry.typeGuid),
      typeCode: entry.typeGuid,
      name: entry.name,
      guid: entry.uniqueGuid,
      bootable: (entry.attributes[0]! & ATTRIBUTE_LEGACY_BIOS_BOOTABLE) !== 0,
    });
  }
  return { sectorSize, header, used, partitions, warnings };
}
