/**
 * The volume label lives twice: in the boot sector's extended BPB (BS_VolLab, valid
 * only with the extended boot signature 0x29; fatgen103 section 3.2) and as a root
 * directory entry with the VOLUME_ID attribute (fatgen103 section 6). Windows and
 * Linux show the root entry, so it wins: like fsck.fat, a boot-sector label that
 * disagrees is made to agree with the root entry (unless only the root copy holds bytes
 * above 0x7F: then the root entry takes the boot sector's plain-ASCII label), a boot-sector label without a root
 * entry is reset to "NO NAME", and an invalid root label is removed from both places.
 */
import { EXTENDED_BOOT_SIGNATURE, type BootSector } from '../boot-sector.js';
import { Attr, DELETED_MARK, DIR_ENTRY_SIZE, KANJI_E5_ESCAPE, decodeOemChar } from '../dir-entry.js';
import { FindingList, FsckCode } from './findings.js';

/** fatgen103 section 3.2: the label a volume without one carries. */
export const NO_NAME = Uint8Array.from('NO NAME    ', (c) => c.charCodeAt(0));

/** Offset of BS_VolLab: FAT12/16 43, FAT32 71 (after BS_BootSig at 38 / 66 and BS_VolID). */
export function bootLabelOffset(boot: BootSector): number {
  return boot.fatType === 'fat32' ? 71 : 43;
}
export function extendedSignatureOffset(boot: BootSector): number {
  return boot.fatType === 'fat32' ? 66 : 38;
}
/** Offset of BS_FilSysType ("FAT12   ", "FAT16   ", "FAT32   "): FAT12/16 54, FAT32 82. */
function fsTypeOffset(boot: BootSector): number {
  return boot.fatType === 'fat32' ? 82 : 54;
}

export interface RootLabel {
  /** Byte position of the label entry in the image. */
  position: number;
  /** The 11 name bytes (a leading 0x05 read as 0xE5). */
  name: Uint8Array;
  /** Its slot in the root directory. */
  slot: number;
}

/**
 * The root directory's label entry: the first live slot before the end marker that is
 * not a long-name slot and carries VOLUME_ID (the rule fsck.fat and the kernel use).
 */
export function findRootLabel(bytes: Uint8Array, slotCount: number, position: (slot: number) => number): RootLabel | null {
  for (let slot = 0; slot < slotCount; slot++) {
    const at = slot * DIR_ENTRY_SIZE;
    const first = bytes[at]!;
    if (first === 0) return null;
    const attr = bytes[at + 11]!;
    if (first === DELETED_MARK || (attr & 0x3f) === Attr.LONG_NAME || !(attr & Attr.VOLUME_ID)) continue;
    const name = bytes.slice(at, at + 11);
    if (name[0] === KANJI_E5_ESCAPE) name[0] = 0xe5;
    return { position: position(slot), slot, name };
  }
  return null;
}

/**
 * Slots of volume-label entries a directory should not hold: in the root every one
 * after the first, in a subdirectory all of them. DOS and diskkit skip them, but
 * fsck.fat takes an entry with the volume bit and other attribute bits (0x4a, 0x6a...)
 * for a file and finds garbage sizes and clusters in it; the repair removes them.
 */
export function extraLabelSlots(bytes: Uint8Array, slotCount: number, isRoot: boolean): number[] {
  const extra: number[] = [];
  let seen = !isRoot;
  for (let slot = 0; slot < slotCount; slot++) {
    const at = slot * DIR_ENTRY_SIZE;
    const first = bytes[at]!;
    if (first === 0) break;
    const attr = bytes[at + 11]!;
    if (first === DELETED_MARK || (attr & 0x3f) === Attr.LONG_NAME || !(attr & Attr.VOLUME_ID) || (attr & Attr.DIRECTORY)) continue;
    if (seen) extra.push(slot);
    seen = true;
  }
  return extra;
}

/**
 * Why an 11-byte label is invalid, or null: control characters, the characters
 * fatgen103 section 6.1 forbids in names (and '.'), all spaces, a leading space.
 * Bytes 0x80 and above are OEM code-page letters and are accepted (fsck.fat 4.2
 * rejects them only because it compares them as signed chars).
 */
export function invalidLabelReason(name: Uint8Array): string | null {
  for (let i = 0; i < 11; i++) {
    const b = name[i]!;
    if (b < 0x20 || b === 0x7f) return `control character 0x${b.toString(16).padStart(2, '0')}`;
    if (b === 0x22 || (b >= 0x2a && b <= 0x2c) || b === 0x2e || b === 0x2f || (b >= 0x3a && b <= 0x3f) || (b >= 0x5b && b <= 0x5d) || b === 0x7c) {
      return `forbidden character '${String.fromCharCode(b)}'`;
    }
  }
  if (name.every((b) => b === 0x20)) return 'only spaces';
  if (name[0] === 0x20) return 'leading space';
  return null;
}

function sameName(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 11; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The label as text (code page 437, as ls shows names); control characters are escaped where it is printed. */
function shown(name: Uint8Array): string {
  let s = '';
  for (const b of name) s += decodeOemChar(b);
  return s.replace(/ +$/, '');
}

export interface LabelDecision {
  /** New boot-sector label, or null to leave it. */
  bootLabel: Uint8Array | null;
  /** Byte position of a root label entry to remove, or null. */
  removeRootEntry: number | null;
  /** A new name for the root label entry (the boot sector's), or null. */
  rootLabel: { position: number; name: Uint8Array } | null;
  /** Write the extended boot signature 0x29 back (it was damaged; the fields after it are there). */
  restoreSignature: boolean;
}

const hasHighBytes = (name: Uint8Array): boolean => name.some((b) => b >= 0x80);

/** Compares the boot-sector label (from the primary boot sector bytes) with the root label entry. */
export function checkVolumeLabel(boot: BootSector, primary: Uint8Array, root: RootLabel | null, findings: FindingList): LabelDecision {
  const decision: LabelDecision = { bootLabel: null, removeRootEntry: null, rootLabel: null, restoreSignature: false };
  // Without the extended boot signature the boot sector has no label field (DOS 3.x BPB): nothing to
  // compare. But a signature byte that is neither 0x29 nor 0x28 (serial number only) in front of a
  // file-system type field starting with "FAT" was damaged, not absent (fsck.fat then reads an empty
  // label there and wants it to match the root's): it is written back and the label compared.
  const signature = primary[extendedSignatureOffset(boot)]!;
  if (signature !== EXTENDED_BOOT_SIGNATURE) {
    const typeAt = fsTypeOffset(boot);
    const typeField = String.fromCharCode(...primary.subarray(typeAt, typeAt + 8));
    if (signature === 0x28 || !typeField.startsWith('FAT')) return decision;
    findings.add(FsckCode.BOOT, `extended boot signature is 0x${signature.toString(16)}, not 0x29, though the extended BPB is there (file system type "${typeField.trimEnd()}")`);
    decision.restoreSignature = true;
  }
  const at = bootLabelOffset(boot);
  const bootLabel = primary.subarray(at, at + 11);
  const bootHasLabel = !sameName(bootLabel, NO_NAME);
  if (root === null) {
    if (!bootHasLabel) return decision;
    const why = invalidLabelReason(bootLabel);
    findings.add(
      FsckCode.LABEL,
      why !== null
        ? `boot sector label "${shown(bootLabel)}" is invalid (${why}) and the root directory has no label`
        : `boot sector label is "${shown(bootLabel)}" but the root directory has no label entry`,
    );
    decision.bootLabel = NO_NAME;
    return decision;
  }
  const why = invalidLabelReason(root.name);
  if (why !== null) {
    findings.add(FsckCode.LABEL, `root directory label "${shown(root.name)}" is invalid (${why})`, { path: '/' });
    decision.removeRootEntry = root.position;
    if (bootHasLabel) decision.bootLabel = NO_NAME;
    return decision;
  }
  if (sameName(bootLabel, root.name)) return decision;
  // Two differing copies, the root's with OEM bytes (above 0x7F) and the boot sector's a
  // valid plain-ASCII label: the root copy is taken as the damaged one and gets the boot
  // sector's name. Copying it the other way would leave a label fsck.fat 4.2 rejects (and
  // removes). A label another tool wrote with OEM letters is in both copies, so untouched.
  if (bootHasLabel && hasHighBytes(root.name) && !hasHighBytes(bootLabel) && invalidLabelReason(bootLabel) === null) {
    findings.add(FsckCode.LABEL, `root directory label "${shown(root.name)}" differs from the boot sector label "${shown(bootLabel)}"`, { path: '/' });
    decision.rootLabel = { position: root.position, name: Uint8Array.from(bootLabel) };
    return decision;
  }
  findings.add(
    FsckCode.LABEL,
    bootHasLabel
      ? `boot sector label "${shown(bootLabel)}" differs from the root directory label "${shown(root.name)}"`
      : `root directory label is "${shown(root.name)}" but the boot sector says NO NAME`,
  );
  decision.bootLabel = root.name;
  return decision;
}
