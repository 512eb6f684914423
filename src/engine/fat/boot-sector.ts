/**
 * The FAT boot sector and BIOS parameter block (Microsoft "FAT: General Overview of
 * On-Disk Format", fatgen103, section 3). Decoding validates field by field and
 * derives the volume geometry; the FAT type follows from the cluster count alone
 * (fatgen103 section 3.5), never from the FilSysType label.
 */
import { defineStruct, type Decoded } from '../struct.js';
import { DiskkitError, ErrorCode, isDiskkitError } from '../errors.js';

export const BOOT_SIGNATURE_OFFSET = 510;
export const BOOT_SIGNATURE = 0xaa55;
/** fatgen103 section 3.5: below 4085 clusters FAT12, below 65525 FAT16, else FAT32. */
export const FAT12_MAX_CLUSTERS = 4084;
export const FAT16_MAX_CLUSTERS = 65524;
/** The largest cluster number FAT32 can address (28-bit entries, minus reserved values). */
export const FAT32_MAX_CLUSTERS = 0x0ffffff5;
/** Extended boot signature: the volume id, label and type fields that follow are valid. */
export const EXTENDED_BOOT_SIGNATURE = 0x29;

export type FatType = 'fat12' | 'fat16' | 'fat32';

/** Fields common to every FAT boot sector (offsets 0..35). */
export const BiosParameterBlock = defineStruct('BPB', 36, {
  jumpBoot: { offset: 0, type: { bytes: 3 } },
  oemName: { offset: 3, type: { bytes: 8 } },
  bytesPerSector: { offset: 11, type: 'u16' },
  sectorsPerCluster: { offset: 13, type: 'u8' },
  reservedSectors: { offset: 14, type: 'u16' },
  numberOfFats: { offset: 16, type: 'u8' },
  rootEntryCount: { offset: 17, type: 'u16' },
  totalSectors16: { offset: 19, type: 'u16' },
  media: { offset: 21, type: 'u8' },
  fatSize16: { offset: 22, type: 'u16' },
  sectorsPerTrack: { offset: 24, type: 'u16' },
  numberOfHeads: { offset: 26, type: 'u16' },
  hiddenSectors: { offset: 28, type: 'u32' },
  totalSectors32: { offset: 32, type: 'u32' },
});

/** FAT12/FAT16 extended BPB (offsets 36..61). */
export const Fat16Extension = defineStruct('FAT16 EBPB', 62, {
  driveNumber: { offset: 36, type: 'u8' },
  reserved1: { offset: 37, type: 'u8' },
  bootSignature: { offset: 38, type: 'u8' },
  volumeId: { offset: 39, type: 'u32' },
  volumeLabel: { offset: 43, type: { bytes: 11 } },
  fileSystemType: { offset: 54, type: { bytes: 8 } },
});

/** FAT32 extended BPB (offsets 36..89). */
export const Fat32Extension = defineStruct('FAT32 EBPB', 90, {
  fatSize32: { offset: 36, type: 'u32' },
  extFlags: { offset: 40, type: 'u16' },
  fsVersion: { offset: 42, type: 'u16' },
  rootCluster: { offset: 44, type: 'u32' },
  fsInfoSector: { offset: 48, type: 'u16' },
  backupBootSector: { offset: 50, type: 'u16' },
  reserved: { offset: 52, type: { bytes: 12 } },
  driveNumber: { offset: 64, type: 'u8' },
  reserved1: { offset: 65, type: 'u8' },
  bootSignature: { offset: 66, type: 'u8' },
  volumeId: { offset: 67, type: 'u32' },
  volumeLabel: { offset: 71, type: { bytes: 11 } },
  fileSystemType: { offset: 82, type: { bytes: 8 } },
});

/** A decoded, validated boot sector with the geometry derived from it. */
export interface BootSector {
  oemName: string;
  bytesPerSector: number;
  sectorsPerCluster: number;
  reservedSectors: number;
  numberOfFats: number;
  rootEntryCount: number;
  totalSectors: number;
  media: number;
  sectorsPerFat: number;
  sectorsPerTrack: number;
  numberOfHeads: number;
  hiddenSectors: number;
  driveNumber: number;
  /** Null when the extended boot signature is absent. */
  volumeId: number | null;
  /** Label from the boot sector, trailing spaces removed; null when absent or "NO NAME". */
  volumeLabel: string | null;
  fileSystemTypeLabel: string;
  /** FAT32 only (0 otherwise). */
  extFlags: number;
  fsVersion: number;
  rootCluster: number;
  fsInfoSector: number;
  backupBootSector: number;

  // Derived geometry.
  fatType: FatType;
  bytesPerCluster: number;
  /** First sector of FAT number 0. */
  firstFatSector: number;
  /** First sector of the fixed root directory (FAT12/16); 0 on FAT32. */
  rootDirSector: number;
  rootDirSectors: number;
  firstDataSector: number;
  /** Number of data clusters; valid cluster numbers are 2 .. clusterCount+1. */
  clusterCount: number;
}

const decoder = new TextDecoder('latin1');
function ascii(bytes: Uint8Array): string {
  return decoder.decode(bytes).replace(/[\s\u0000]+$/, '');
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** The FAT type for a cluster count, as fatgen103 section 3.5 decides it. */
export function fatTypeForClusterCount(clusterCount: number): FatType {
  if (clusterCount <= FAT12_MAX_CLUSTERS) return 'fat12';
  if (clusterCount <= FAT16_MAX_CLUSTERS) return 'fat16';
  return 'fat32';
}

function bad(field: string, value: unknown, why: string): DiskkitError {
  return new DiskkitError(ErrorCode.BAD_BPB, `invalid boot sector: ${field} ${why}`, { context: { field, value } });
}

/**
 * Decodes and validates a boot sector. `volumeBytes`, when given, is the size of the
 * image or partition holding it: a BPB claiming more sectors than that is rejected.
 */
export function decodeBootSector(sector: Uint8Array, volumeBytes?: number): BootSector {
  if (sector.length < 512) throw bad('length', sector.length, 'is shorter than 512 bytes');
  const bpb = BiosParameterBlock.decode(sector);
  const signature = sector[BOOT_SIGNATURE_OFFSET]! | (sector[BOOT_SIGNATURE_OFFSET + 1]! << 8);
  // Some old formatters leave the jump or the signature out; a BPB is only trusted when
  // at least one of the two marks is present.
  const jumpOk = (bpb.jumpBoot[0] === 0xeb && bpb.jumpBoot[2] === 0x90) || bpb.jumpBoot[0] === 0xe9 || bpb.jumpBoot[0] === 0xeb;
  // Neither mark: not a damaged FAT boot sector but none at all (E_UNKNOWN_FORMAT, which
  // open-volume.ts words for every format when no format's probe matched either).
  if (!jumpOk && signature !== BOOT_SIGNATURE) {
    throw new DiskkitError(ErrorCode.UNKNOWN_FORMAT, 'not a FAT boot sector: no 55 AA signature and no jump instruction', { context: { field: 'signature', value: signature.toString(16) } });
  }

  const { bytesPerSector, sectorsPerCluster, reservedSectors, numberOfFats, rootEntryCount } = bpb;
  if (!isPowerOfTwo(bytesPerSector) || bytesPerSector < 512 || bytesPerSector > 4096) throw bad('bytesPerSector', bytesPerSector, 'must be 512, 1024, 2048 or 4096');
  if (!isPowerOfTwo(sectorsPerCluster) || sectorsPerCluster > 128) throw bad('sectorsPerCluster', sectorsPerCluster, 'must be a power of two from 1 to 128');
  if (reservedSectors === 0) throw bad('reservedSectors', reservedSectors, 'must not be 0');
  if (numberOfFats === 0) throw bad('numberOfFats', numberOfFats, 'must not be 0');
  const bytesPerCluster = bytesPerSector * sectorsPerCluster;
  if (bytesPerCluster > 256 * 1024) throw bad('sectorsPerCluster', sectorsPerCluster, `gives ${bytesPerCluster}-byte clusters (at most 256 KiB)`);

  const totalSectors = bpb.totalSectors16 !== 0 ? bpb.totalSectors16 : bpb.totalSectors32;
  if (totalSectors === 0) throw bad('totalSectors', 0, 'must not be 0');
  if (bpb.totalSectors16 !== 0 && bpb.totalSectors32 !== 0 && bpb.totalSectors16 !== bpb.totalSectors32) {
    throw bad('totalSectors32', bpb.totalSectors32, `disagrees with totalSectors16 ${bpb.totalSectors16}`);
  }

  const ext32 = Fat32Extension.decode(sector);
  const sectorsPerFat = bpb.fatSize16 !== 0 ? bpb.fatSize16 : ext32.fatSize32;
  if (sectorsPerFat === 0) throw bad('sectorsPerFat', 0, 'must not be 0');

  const rootDirSectors = Math.ceil((rootEntryCount * 32) / bytesPerSector);
  const firstFatSector = reservedSectors;
  const rootDirSector = reservedSectors + numberOfFats * sectorsPerFat;
  const firstDataSector = rootDirSector + rootDirSectors;
  if (firstDataSector >= totalSectors) throw bad('totalSectors', totalSectors, `leaves no data region (metadata takes ${firstDataSector} sectors)`);
  const clusterCount = Math.floor((totalSectors - firstDataSector) / sectorsPerCluster);
  if (clusterCount < 1) throw bad('totalSectors', totalSectors, 'leaves no data cluster');
  // A FAT32 layout (no 16-bit FAT size, no fixed root) is FAT32 whatever its cluster
  // count, as Linux, mtools and fsck.fat take it: mkfs.fat -F 32 makes such volumes
  // below 65,525 clusters (with a warning), which the count alone would call FAT16.
  const fatType = bpb.fatSize16 === 0 && rootEntryCount === 0 && ext32.fatSize32 !== 0 ? 'fat32' : fatTypeForClusterCount(clusterCount);

  // The FAT must have an entry for every cluster (fatgen103 section 3.5 and 4).
  const entryBits = fatType === 'fat12' ? 12 : fatType === 'fat16' ? 16 : 32;
  const fatBytesNeeded = Math.ceil(((clusterCount + 2) * entryBits) / 8);
  if (sectorsPerFat * bytesPerSector < fatBytesNeeded) {
    throw bad('sectorsPerFat', sectorsPerFat, `is too small for ${clusterCount} clusters (needs ${Math.ceil(fatBytesNeeded / bytesPerSector)})`);
  }
  if (volumeBytes !== undefined && totalSectors * bytesPerSector > volumeBytes) {
    throw new DiskkitError(ErrorCode.TRUNCATED, `boot sector claims ${totalSectors * bytesPerSector} bytes but the image holds ${volumeBytes}`, {
      context: { field: 'totalSectors', value: totalSectors, imageBytes: volumeBytes },
      hint: 'the image may be truncated',
    });
  }

  let extension: { driveNumber: number; bootSignature: number; volumeId: number; volumeLabel: Uint8Array; fileSystemType: Uint8Array };
  let extFlags = 0;
  let fsVersion = 0;
  let rootCluster = 0;
  let fsInfoSector = 0;
  let backupBootSector = 0;
  if (fatType === 'fat32') {
    if (rootEntryCount !== 0) throw bad('rootEntryCount', rootEntryCount, 'must be 0 on FAT32');
    if (bpb.fatSize16 !== 0) throw bad('fatSize16', bpb.fatSize16, 'must be 0 on FAT32');
    if (ext32.fsVersion !== 0) throw bad('fsVersion', ext32.fsVersion, 'is not 0.0 (unknown FAT32 version)');
    if (ext32.rootCluster < 2 || ext32.rootCluster > clusterCount + 1) throw bad('rootCluster', ext32.rootCluster, `is outside clusters 2..${clusterCount + 1}`);
    extension = ext32;
    extFlags = ext32.extFlags;
    fsVersion = ext32.fsVersion;
    rootCluster = ext32.rootCluster;
    fsInfoSector = ext32.fsInfoSector;
    backupBootSector = ext32.backupBootSector;
  } else {
    if (rootEntryCount === 0) throw bad('rootEntryCount', 0, `must not be 0 on ${fatType.toUpperCase()}`);
    extension = Fat16Extension.decode(sector);
  }
  const hasExtended = extension.bootSignature === EXTENDED_BOOT_SIGNATURE || extension.bootSignature === 0x28;
  const label = hasExtended && extension.bootSignature === EXTENDED_BOOT_SIGNATURE ? ascii(extension.volumeLabel) : '';

  return {
    oemName: ascii(bpb.oemName),
    bytesPerSector,
    sectorsPerCluster,
    reservedSectors,
    numberOfFats,
    rootEntryCount,
    totalSectors,
    media: bpb.media,
    sectorsPerFat,
    sectorsPerTrack: bpb.sectorsPerTrack,
    numberOfHeads: bpb.numberOfHeads,
    hiddenSectors: bpb.hiddenSectors,
    driveNumber: extension.driveNumber,
    volumeId: hasExtended ? extension.volumeId : null,
    volumeLabel: label === '' || label === 'NO NAME' ? null : label,
    fileSystemTypeLabel: hasExtended && extension.bootSignature === EXTENDED_BOOT_SIGNATURE ? ascii(extension.fileSystemType) : '',
    extFlags,
    fsVersion,
    rootCluster,
    fsInfoSector,
    backupBootSector,
    fatType,
    bytesPerCluster,
    firstFatSector,
    rootDirSector: fatType === 'fat32' ? 0 : rootDirSector,
    rootDirSectors,
    firstDataSector,
    clusterCount,
  };
}

/** The fields `encodeBootSector` needs; geometry is derived, not given. */
export type BootSectorFields = Omit<BootSector, 'fatType' | 'bytesPerCluster' | 'firstFatSector' | 'rootDirSector' | 'rootDirSectors' | 'firstDataSector' | 'clusterCount'> & {
  fatType: FatType;
};

function padAscii(text: string, length: number): Uint8Array {
  const out = new Uint8Array(length).fill(0x20);
  for (let i = 0; i < Math.min(text.length, length); i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/**
 * Encodes a boot sector of `bytesPerSector` bytes: jump, BPB, extended BPB, a boot
 * stub that prints "not bootable" (as mkfs.fat does) and the 55 AA signature.
 */
export function encodeBootSector(fields: BootSectorFields): Uint8Array {
  const sector = new Uint8Array(fields.bytesPerSector);
  const is32 = fields.fatType === 'fat32';
  const bootCodeOffset = is32 ? 90 : 62;
  BiosParameterBlock.encode(
    {
      jumpBoot: Uint8Array.of(0xeb, bootCodeOffset - 2, 0x90),
      oemName: padAscii(fields.oemName, 8),
      bytesPerSector: fields.bytesPerSector,
      sectorsPerCluster: fields.sectorsPerCluster,
      reservedSectors: fields.reservedSectors,
      numberOfFats: fields.numberOfFats,
      rootEntryCount: fields.rootEntryCount,
      totalSectors16: !is32 && fields.totalSectors < 0x10000 ? fields.totalSectors : 0,
      media: fields.media,
      fatSize16: is32 ? 0 : fields.sectorsPerFat,
      sectorsPerTrack: fields.sectorsPerTrack,
      numberOfHeads: fields.numberOfHeads,
      hiddenSectors: fields.hiddenSectors,
      totalSectors32: !is32 && fields.totalSectors < 0x10000 ? 0 : fields.totalSectors,
    },
    sector,
  );
  const extension = {
    driveNumber: fields.driveNumber,
    reserved1: 0,
    bootSignature: EXTENDED_BOOT_SIGNATURE,
    volumeId: fields.volumeId ?? 0,
    volumeLabel: padAscii(fields.volumeLabel ?? 'NO NAME', 11),
    fileSystemType: padAscii(fields.fatType === 'fat12' ? 'FAT12' : fields.fatType === 'fat16' ? 'FAT16' : 'FAT32', 8),
  };
  if (is32) {
    Fat32Extension.encode(
      {
        ...extension,
        fatSize32: fields.sectorsPerFat,
        extFlags: fields.extFlags,
        fsVersion: 0,
        rootCluster: fields.rootCluster,
        fsInfoSector: fields.fsInfoSector,
        backupBootSector: fields.backupBootSector,
        reserved: new Uint8Array(12),
      },
      sector,
    );
  } else {
    Fat16Extension.encode(extension, sector);
  }
  // Boot stub: print a message and wait for a key, then reboot (int 0x16, int 0x19).
  const message = 'No operating system on this volume (diskkit). Press a key to restart.\r\n';
  const stubStart = bootCodeOffset;
  const stub = [
    0x0e, 0x1f, // push cs; pop ds
    0xbe, 0, 0, // mov si, message (patched below)
    0xac, // lodsb
    0x22, 0xc0, // and al, al
    0x74, 0x0b, // jz key
    0x56, // push si
    0xb4, 0x0e, // mov ah, 0x0e
    0xbb, 0x07, 0x00, // mov bx, 7
    0xcd, 0x10, // int 0x10
    0x5e, // pop si
    0xeb, 0xf0, // jmp print
    0x32, 0xe4, // key: xor ah, ah
    0xcd, 0x16, // int 0x16
    0xcd, 0x19, // int 0x19
    0xeb, 0xfe, // jmp $
  ];
  const messageAt = 0x7c00 + stubStart + stub.length;
  stub[3] = messageAt & 0xff;
  stub[4] = (messageAt >> 8) & 0xff;
  sector.set(stub, stubStart);
  sector.set(padAscii(message, message.length), stubStart + stub.length);
  sector[BOOT_SIGNATURE_OFFSET] = 0x55;
  sector[BOOT_SIGNATURE_OFFSET + 1] = 0xaa;
  return sector;
}

export type BpbFields = Decoded<typeof BiosParameterBlock.fields>;

/** True when `sector` decodes as a FAT boot sector (the size is checked later, by the volume): the registry's probe. */
export function isFatBootSector(sector: Uint8Array): boolean {
  try {
    decodeBootSector(sector);
    return true;
  } catch (error) {
    if (isDiskkitError(error)) return false;
    throw error;
  }
}
