/**
 * What fsck reports: every finding carries a stable code (callers and --json branch
 * on it, never on the message), the path(s) and clusters it concerns, and whether the
 * repair pass can correct it. Repairs are listed as they are made.
 */

import { MAX_FINDINGS_PER_CODE } from '../../limits.js';

/** Stable finding codes of `diskkit fsck`. */
export const FsckCode = {
  /** Boot sector fields that decode but are not sane (signature, media, jump...). */
  BOOT: 'E_FSCK_BOOT',
  /** FAT32 backup boot sector differs from the primary. */
  BOOT_BACKUP: 'E_FSCK_BOOT_BACKUP',
  /** FSInfo signatures, free count or next-free hint wrong. */
  FSINFO: 'E_FSCK_FSINFO',
  /** The FAT copies differ. */
  FAT_MISMATCH: 'E_FSCK_FAT_MISMATCH',
  /** FAT[0] does not carry the media byte, or the BPB media byte is not a valid one. */
  MEDIA: 'E_FSCK_MEDIA',
  /** FAT[1] is not an end-of-chain mark. */
  FAT_RESERVED: 'E_FSCK_FAT_RESERVED',
  /** The volume was not cleanly unmounted (boot-sector state byte or FAT[1] clean bit). */
  DIRTY: 'E_FSCK_DIRTY',
  /** FAT[1] hard-error bit says the last mount met disk I/O errors. */
  HARD_ERROR: 'E_FSCK_HARD_ERROR',
  /** An 8.3 name holds characters DOS forbids. */
  BAD_NAME: 'E_FSCK_BAD_NAME',
  /** '.' or '..' missing, misplaced or pointing at the wrong cluster. */
  DOT: 'E_FSCK_DOT',
  /** Start cluster out of range, free or bad. */
  START_CLUSTER: 'E_FSCK_START_CLUSTER',
  /** File size and cluster chain length disagree. */
  CHAIN_SIZE: 'E_FSCK_CHAIN_SIZE',
  /** A directory entry has a non-zero size. */
  DIR_SIZE: 'E_FSCK_DIR_SIZE',
  /** Long-name slots out of order, with a wrong checksum, or without their short entry. */
  LFN_ORPHAN: 'E_FSCK_LFN_ORPHAN',
  /** Two entries of one directory share a short name. */
  DUPLICATE: 'E_FSCK_DUPLICATE',
  /** A cluster belongs to two chains. */
  CROSSLINK: 'E_FSCK_CROSSLINK',
  /** A chain comes back on itself. */
  LOOP: 'E_FSCK_LOOP',
  /** A chain runs out of range or into a free or bad cluster. */
  CHAIN_RANGE: 'E_FSCK_CHAIN_RANGE',
  /** Allocated clusters no entry reaches. */
  LOST: 'E_FSCK_LOST',
  /** The boot sector's volume label disagrees with the root directory's label entry, or a label is invalid. */
  LABEL: 'E_FSCK_LABEL',
  /** The NT case byte (offset 12) of a short entry has bits set besides the lower-case flags 0x08 and 0x10. */
  CASE_BYTE: 'E_FSCK_CASE_BYTE',
  /** A long-name slot has a non-zero reserved field (type byte 12 or start cluster 26..27). */
  LFN_RESERVED: 'E_FSCK_LFN_RESERVED',
  /** The FAT32 backup FSInfo sector (after the backup boot sector) is present but damaged. */
  FSINFO_BACKUP: 'E_FSCK_FSINFO_BACKUP',
  /** Slots after a directory's end-of-directory mark (a 0x00 first byte) are not empty; fsck.fat reads them as entries. */
  AFTER_END: 'E_FSCK_AFTER_END',
} as const;

export type FsckCodeValue = (typeof FsckCode)[keyof typeof FsckCode];

export interface Finding {
  code: FsckCodeValue;
  message: string;
  /** Path(s) of the entries concerned: one, or two for a cross-link. */
  path?: string[];
  clusters?: number[];
  /** True when --repair knows how to correct it. */
  fixable: boolean;
  /** Set on a summary line: how many more findings of `code` were counted but not listed. */
  omitted?: number;
}

export interface Repair {
  /** The finding code the change answers. */
  code: FsckCodeValue;
  message: string;
  path?: string;
}

export interface FsckStats {
  files: number;
  dirs: number;
  clustersTotal: number;
  clustersUsed: number;
  clustersFree: number;
  clustersBad: number;
  lostChains: number;
  lostClusters: number;
  fatType: 'FAT12' | 'FAT16' | 'FAT32';
}

export interface FsckReport {
  /** No findings. */
  clean: boolean;
  errors: Finding[];
  repairs: Repair[];
  /** Findings a repair run could not correct. */
  uncorrected: Finding[];
  stats: FsckStats;
}

/**
 * Collects findings; lists at most `perCode` of each code and counts the rest, so a
 * garbage volume with a million bad entries costs a bounded report (see `summaries`).
 */
export class FindingList {
  readonly items: Finding[] = [];
  /** Findings counted but not listed, by code. */
  readonly omittedByCode = new Map<FsckCodeValue, number>();
  private readonly listedByCode = new Map<FsckCodeValue, number>();
  constructor(private readonly perCode = MAX_FINDINGS_PER_CODE) {}

  /** Findings counted but not listed, all codes. */
  get omitted(): number {
    let n = 0;
    for (const v of this.omittedByCode.values()) n += v;
    return n;
  }

  add(code: FsckCodeValue, message: string, extra: { path?: string | string[]; clusters?: number[]; fixable?: boolean } = {}): void {
    const listed = this.listedByCode.get(code) ?? 0;
    if (listed >= this.perCode) {
      this.omittedByCode.set(code, (this.omittedByCode.get(code) ?? 0) + 1);
      return;
    }
    this.listedByCode.set(code, listed + 1);
    const finding: Finding = { code, message, fixable: extra.fixable ?? true };
    if (extra.path !== undefined) finding.path = Array.isArray(extra.path) ? extra.path : [extra.path];
    if (extra.clusters !== undefined) finding.clusters = extra.clusters;
    this.items.push(finding);
  }

  /** Adds another list's findings (its listed ones through the same per-code limit, its counts as they are). */
  merge(other: FindingList): void {
    for (const f of other.items) {
      const listed = this.listedByCode.get(f.code) ?? 0;
      if (listed >= this.perCode) this.omittedByCode.set(f.code, (this.omittedByCode.get(f.code) ?? 0) + 1);
      else {
        this.listedByCode.set(f.code, listed + 1);
        this.items.push(f);
      }
    }
    for (const [code, n] of other.omittedByCode) this.omittedByCode.set(code, (this.omittedByCode.get(code) ?? 0) + n);
  }

  /** The listed findings, each code's summary ("... and N more CODE") after its last listed one. */
  withSummaries(): Finding[] {
    if (this.omittedByCode.size === 0) return this.items;
    const lastIndex = new Map<FsckCodeValue, number>();
    this.items.forEach((f, i) => lastIndex.set(f.code, i));
    const out: Finding[] = [];
    this.items.forEach((f, i) => {
      out.push(f);
      const n = this.omittedByCode.get(f.code);
      if (n !== undefined && lastIndex.get(f.code) === i) {
        out.push({ code: f.code, message: `... and ${n.toLocaleString('en-US')} more ${f.code} findings not listed`, fixable: f.fixable, omitted: n });
      }
    });
    return out;
  }
}

/** Number of findings a list stands for: each listed one, plus the count a summary line carries. */
export function countFindings(findings: readonly Finding[]): number {
  let n = 0;
  for (const f of findings) n += f.omitted ?? 1;
  return n;
}
