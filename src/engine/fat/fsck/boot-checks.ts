/**
 * Checks of the reserved region: the boot sector's sanity beyond what decoding
 * already refuses, the FAT32 backup boot sector (fatgen103 section 3.3, BPB_BkBootSec),
 * the FSInfo sector (fatgen103 section 5) and the boot-sector dirty flag (the "state"
 * byte Linux and Windows keep in BS_Reserved1: bit 0 set = mounted, not cleanly
 * unmounted).
 */
import { readBytes, type BlockSource } from '../../../io/block-source.js';
import { BOOT_SIGNATURE, BOOT_SIGNATURE_OFFSET, type BootSector } from '../boot-sector.js';
import { FSINFO_UNKNOWN, decodeFsInfo, FsInfoSector, FSINFO_LEAD_SIGNATURE, FSINFO_STRUCT_SIGNATURE, FSINFO_TRAIL_SIGNATURE } from '../fsinfo.js';
import { FindingList, FsckCode } from './findings.js';

/** Offset of the state byte: BS_Reserved1 (FAT12/16 offset 37, FAT32 offset 65). */
export function stateByteOffset(boot: BootSector): number {
  return boot.fatType === 'fat32' ? 65 : 37;
}
export const STATE_DIRTY = 0x01;

export interface BootState {
  primary: Uint8Array;
  dirtyFlag: boolean;
  /** FAT32: the backup exists (its sector is inside the reserved region) and differs. */
  backupDiffers: boolean;
  backupSector: number | null;
  /** FAT32: BPB_BkBootSec points outside the reserved sectors but this sector holds the backup: the field is set back to it. */
  backupFieldFix: number | null;
  /** FAT32: BPB_FSInfo points outside the usable reserved sectors but this sector holds the FSInfo: the field is set back to it. */
  fsInfoFieldFix: number | null;
  /** FAT32: the FSInfo sector number, when it is usable. */
  fsInfoSector: number | null;
  fsInfoValid: boolean;
  fsInfoFreeCount: number | null;
  fsInfoNextFree: number | null;
  rawFreeCount: number;
  rawNextFree: number;
  /** FAT32: sector number of the backup FSInfo (the sector after the backup boot sector), when it is present. */
  fsInfoBackupSector: number | null;
  fsInfoBackupDamaged: boolean;
}

/** Checks the boot sector, its backup and the FSInfo signatures; free count and hint are checked later against the FAT. */
export function checkBootRegion(source: BlockSource, boot: BootSector, findings: FindingList): BootState {
  const bps = boot.bytesPerSector;
  const primary = readBytes(source, 0, bps);
  const signature = primary[BOOT_SIGNATURE_OFFSET]! | (primary[BOOT_SIGNATURE_OFFSET + 1]! << 8);
  if (signature !== BOOT_SIGNATURE) {
    findings.add(FsckCode.BOOT, `boot sector signature is 0x${signature.toString(16)}, not 0xaa55`, { fixable: false });
  }
  // The BPB media byte is checked with FAT[0] (check.ts), which can tell what it was.
  const state: BootState = {
    primary,
    dirtyFlag: (primary[stateByteOffset(boot)]! & STATE_DIRTY) !== 0,
    backupDiffers: false,
    backupSector: null,
    backupFieldFix: null,
    fsInfoFieldFix: null,
    fsInfoSector: null,
    fsInfoValid: false,
    fsInfoFreeCount: null,
    fsInfoNextFree: null,
    rawFreeCount: FSINFO_UNKNOWN,
    rawNextFree: FSINFO_UNKNOWN,
    fsInfoBackupSector: null,
    fsInfoBackupDamaged: false,
  };
  if (state.dirtyFlag) findings.add(FsckCode.DIRTY, 'boot sector dirty flag is set: the volume was not cleanly unmounted');
  if (boot.fatType !== 'fat32') {
    // fatgen103 rounds the root up to whole sectors, and so does diskkit; mtools rounds it
    // down and reads and writes the data area one sector early, and Linux refuses to mount
    // such a volume. fsck.fat refuses a count that is not a multiple of 16. Nothing can be
    // moved to fix it, so it is reported only.
    if ((boot.rootEntryCount * 32) % bps !== 0) {
      findings.add(FsckCode.BOOT, `the root directory's ${boot.rootEntryCount} entries do not fill whole ${bps}-byte sectors: other tools place the data area differently`, { fixable: false });
    }
    return state;
  }

  const reserved = boot.reservedSectors;
  if (boot.backupBootSector !== 0 && boot.backupBootSector !== 0xffff) {
    if (boot.backupBootSector >= reserved) {
      const found = findDisplacedBackup(source, boot, primary);
      findings.add(
        FsckCode.BOOT,
        `backup boot sector ${boot.backupBootSector} lies outside the ${reserved} reserved sectors${found === null ? '' : ` (sector ${found} holds the backup)`}`,
        { fixable: found !== null },
      );
      state.backupSector = found;
      state.backupFieldFix = found;
    } else {
      state.backupSector = boot.backupBootSector;
      const backup = readBytes(source, boot.backupBootSector * bps, bps);
      if (!sameBytes(primary, backup)) {
        state.backupDiffers = true;
        const first = firstDifference(primary, backup);
        findings.add(FsckCode.BOOT_BACKUP, `backup boot sector (sector ${boot.backupBootSector}) differs from the primary (first at byte ${first})`);
      }
    }
  }
  if (boot.fsInfoSector !== 0 && boot.fsInfoSector !== 0xffff) {
    let fsInfoAt: number | null = boot.fsInfoSector;
    if (boot.fsInfoSector >= reserved || boot.fsInfoSector === boot.backupBootSector) {
      // A damaged BPB_FSInfo field: the FSInfo sector is usually still in sector 1.
      const found = findDisplacedFsInfo(source, boot, state.backupSector);
      findings.add(
        FsckCode.FSINFO,
        `FSInfo sector ${boot.fsInfoSector} is not a usable reserved sector${found === null ? '' : ` (sector ${found} holds the FSInfo)`}`,
        { fixable: found !== null },
      );
      state.fsInfoFieldFix = found;
      fsInfoAt = found;
    }
    if (fsInfoAt !== null) {
      state.fsInfoSector = fsInfoAt;
      const sector = readBytes(source, fsInfoAt * bps, 512);
      const info = decodeFsInfo(sector, boot.clusterCount);
      const raw = FsInfoSector.decode(sector);
      state.fsInfoValid = info.valid;
      state.rawFreeCount = info.rawFreeCount;
      state.rawNextFree = info.rawNextFree;
      state.fsInfoFreeCount = info.freeCount;
      state.fsInfoNextFree = info.nextFree;
      if (!info.valid) {
        const bad = [
          raw.leadSignature !== FSINFO_LEAD_SIGNATURE ? 'lead' : null,
          raw.structSignature !== FSINFO_STRUCT_SIGNATURE ? 'structure' : null,
          raw.trailSignature !== FSINFO_TRAIL_SIGNATURE ? 'trail' : null,
        ].filter(Boolean);
        findings.add(FsckCode.FSINFO, `FSInfo sector ${fsInfoAt} has a bad ${bad.join(' and ')} signature`);
      }
      checkBackupFsInfo(source, boot, state, findings);
    }
  }
  return state;
}

/**
 * The backup FSInfo sits in the sector after the backup boot sector (fatgen103 section
 * 3.3: the backup boot record is the boot sector, FSInfo and a third sector). An all-zero
 * sector means the formatter wrote no backup (mformat does not) and is accepted. A
 * present one must carry the three signatures and in-range hints. Its free count and
 * hint are not compared with the primary: the kernel and Windows update only the primary,
 * so a backup that lags is normal, not damage (fsck.fat does not read it at all).
 */
function checkBackupFsInfo(source: BlockSource, boot: BootSector, state: BootState, findings: FindingList): void {
  if (state.backupSector === null) return;
  const sectorNo = state.backupSector + 1;
  if (sectorNo >= boot.reservedSectors || sectorNo === state.fsInfoSector) return;
  const sector = readBytes(source, sectorNo * boot.bytesPerSector, 512);
  if (sector.every((b) => b === 0)) return;
  state.fsInfoBackupSector = sectorNo;
  const raw = FsInfoSector.decode(sector);
  const why: string[] = [];
  if (raw.leadSignature !== FSINFO_LEAD_SIGNATURE) why.push('bad lead signature');
  if (raw.structSignature !== FSINFO_STRUCT_SIGNATURE) why.push('bad structure signature');
  if (raw.trailSignature !== FSINFO_TRAIL_SIGNATURE) why.push('bad trail signature');
  const free = sector[488]! + sector[489]! * 0x100 + sector[490]! * 0x10000 + sector[491]! * 0x1000000;
  const hint = sector[492]! + sector[493]! * 0x100 + sector[494]! * 0x10000 + sector[495]! * 0x1000000;
  if (free !== FSINFO_UNKNOWN && free > boot.clusterCount) why.push(`free count ${free} above the ${boot.clusterCount} clusters`);
  if (hint !== FSINFO_UNKNOWN && (hint < 2 || hint > boot.clusterCount + 1)) why.push(`next-free hint ${hint} outside clusters 2..${boot.clusterCount + 1}`);
  if (why.length === 0) return;
  state.fsInfoBackupDamaged = true;
  findings.add(FsckCode.FSINFO_BACKUP, `backup FSInfo sector ${sectorNo} is damaged: ${why.join(', ')}`);
}

/**
 * Checks the FSInfo hints against the FAT: the free count must equal the real count
 * (0xFFFFFFFF means unknown and is accepted), and the next-free hint must be unknown
 * or a cluster number in range (fatgen103 section 5).
 */
export function checkFsInfoHints(state: BootState, clustersFree: number, maxCluster: number, findings: FindingList): boolean {
  if (state.fsInfoSector === null || !state.fsInfoValid) return false;
  let wrong = false;
  if (state.rawFreeCount !== FSINFO_UNKNOWN && state.rawFreeCount !== clustersFree) {
    wrong = true;
    findings.add(FsckCode.FSINFO, `FSInfo free cluster count is ${state.rawFreeCount}, the FAT has ${clustersFree} free`);
  }
  if (state.rawNextFree !== FSINFO_UNKNOWN && (state.rawNextFree < 2 || state.rawNextFree > maxCluster)) {
    wrong = true;
    findings.add(FsckCode.FSINFO, `FSInfo next-free hint ${state.rawNextFree} is outside clusters 2..${maxCluster}`);
  }
  return wrong;
}

/** BPB_FSInfo (FAT32 boot sector offset 48, 2 bytes). */
export const FSINFO_FIELD_OFFSET = 48;
/** fatgen103 section 3.3: BPB_FSInfo is "usually 1". */
const USUAL_FSINFO_SECTOR = 1;

/** Sector 1 when it carries the three FSInfo signatures (and is not the backup boot sector). */
function findDisplacedFsInfo(source: BlockSource, boot: BootSector, backupSector: number | null): number | null {
  const s = USUAL_FSINFO_SECTOR;
  if (s >= boot.reservedSectors || s === backupSector) return null;
  const raw = FsInfoSector.decode(readBytes(source, s * boot.bytesPerSector, 512));
  const ok = raw.leadSignature === FSINFO_LEAD_SIGNATURE && raw.structSignature === FSINFO_STRUCT_SIGNATURE && raw.trailSignature === FSINFO_TRAIL_SIGNATURE;
  return ok ? s : null;
}

/** BPB_BkBootSec (FAT32 boot sector offset 50, 2 bytes). */
export const BACKUP_FIELD_OFFSET = 50;
/** fatgen103 section 3.3: "the recommended value is 6" (what mkfs.fat and Windows write). */
const USUAL_BACKUP_SECTOR = 6;

/**
 * When BPB_BkBootSec was damaged, the backup is usually still in sector 6: it is taken
 * to be the backup when it equals the primary in every byte but that field.
 */
function findDisplacedBackup(source: BlockSource, boot: BootSector, primary: Uint8Array): number | null {
  const s = USUAL_BACKUP_SECTOR;
  if (s >= boot.reservedSectors || s === boot.fsInfoSector) return null;
  const backup = readBytes(source, s * boot.bytesPerSector, boot.bytesPerSector);
  for (let i = 0; i < primary.length; i++) {
    if (i === BACKUP_FIELD_OFFSET || i === BACKUP_FIELD_OFFSET + 1) continue;
    if (primary[i] !== backup[i]) return null;
  }
  return backup[BACKUP_FIELD_OFFSET] === s && backup[BACKUP_FIELD_OFFSET + 1] === 0 ? s : null;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return a.length;
}
