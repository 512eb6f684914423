/**
 * Carries out a repair plan on a writable image. FAT changes go through FatTable
 * (its dirty sectors are flushed to every copy at the end, which is also how the copies
 * are synchronised); directory changes are read-modify-write of single 32-byte slots.
 * Every change is listed. Order: FAT copies, chain cuts, entry edits, cross-link copies,
 * lost chains, then boot sector, backup, reserved FAT entries and FSInfo last, so
 * the summary structures describe the final state.
 */
import { count } from '../../plural.js';
import type { BlockSource } from '../../../io/block-source.js';
import { MAX_FINDINGS_PER_CODE } from '../../limits.js';
import { readBytes } from '../../../io/block-source.js';
import { EXTENDED_BOOT_SIGNATURE, type BootSector } from '../boot-sector.js';
import { DELETED_MARK, DIR_ENTRY_SIZE } from '../dir-entry.js';
import { endOfChainValue, writeFatValue } from '../fat-entry.js';
import { FatTable } from '../fat-table.js';
import { encodeFsInfo } from '../fsinfo.js';
import { shortNameChecksum } from '../long-name.js';
import { BACKUP_FIELD_OFFSET, FSINFO_FIELD_OFFSET, stateByteOffset, STATE_DIRTY, type BootState } from './boot-checks.js';
import { CLEAN_SHUTDOWN_BIT, HARD_ERROR_BIT, expectedFat0 } from './fat-copies.js';
import { FsckCode, type FsckCodeValue, type Repair } from './findings.js';
import { saveLostChains } from './found-dir.js';
import type { RepairContext } from './repair-context.js';
import { OwnerKind, type Owners } from './ownership.js';
import type { EntryEdit, RepairPlan } from './plan.js';
import { bootLabelOffset, extendedSignatureOffset } from './volume-label.js';
import { journalOf } from '../../journal/index.js';
import { freeClusterTest } from '../unsaved-clusters.js';

export type { RepairContext } from './repair-context.js';

export interface RepairInput {
  source: BlockSource;
  boot: BootSector;
  next: Uint32Array;
  owners: Owners;
  bootState: BootState;
  plan: RepairPlan;
  freeLost: boolean;
  /** FAT[1] as it should end up (chosen copy, flags set). */
  fat1: number;
}

export interface RepairOutcome {
  repairs: Repair[];
  /** Codes of findings the repair could not correct. */
  failed: FsckCodeValue[];
}

/**
 * Carries out the plan as one transaction of the image's rollback journal: committed
 * when every write is done, rolled back (the image as before the repair) when one
 * throws. Writes into clusters that are free in the chosen FAT and owned by nothing
 * need no saving, unless the FAT copies disagree (then everything is saved).
 */
export function applyPlan(input: RepairInput): RepairOutcome {
  const journal = journalOf(input.source);
  if (journal) {
    const { next, owners } = input;
    const wasFree = new Uint8Array(next.length);
    if (!input.plan.syncFats) for (let c = 2; c < next.length; c++) wasFree[c] = next[c] === 0 && owners.owner[c] === 0 ? 1 : 0;
    journal.setUnsavedRanges(freeClusterTest(input.boot, input.source.baseOffset, (c) => wasFree[c] === 1));
  }
  try {
    const outcome = writePlan(input);
    journal?.commit();
    return outcome;
  } catch (error) {
    journal?.rollback();
    throw error;
  }
}

function writePlan(input: RepairInput): RepairOutcome {
  const { source, boot, next, owners, plan } = input;
  const repairs: Repair[] = [];
  const failed: FsckCodeValue[] = [];
  // Repairs of one code past MAX_FINDINGS_PER_CODE are counted, then summarised at the end.
  const listed = new Map<FsckCodeValue, number>();
  const unlisted = new Map<FsckCodeValue, number>();
  const list = (code: FsckCodeValue, message: string, path?: string): void => {
    const n = listed.get(code) ?? 0;
    if (n >= MAX_FINDINGS_PER_CODE) {
      unlisted.set(code, (unlisted.get(code) ?? 0) + 1);
      return;
    }
    listed.set(code, n + 1);
    repairs.push(path === undefined ? { code, message } : { code, message, path });
  };
  const fat = new FatTable(source, boot);
  const maxCluster = boot.clusterCount + 1;
  const eoc = endOfChainValue(boot.fatType);
  const bpc = boot.bytesPerCluster;
  let cursor = 2;
  const ctx: RepairContext = {
    source,
    boot,
    next,
    owners,
    rootOwner: 1,
    clusterPosition: (c) => (boot.firstDataSector + (c - 2) * boot.sectorsPerCluster) * boot.bytesPerSector,
    setNext(c, v) {
      next[c] = v;
      fat.set(c, v);
    },
    setEnd(c) {
      ctx.setNext(c, eoc);
    },
    allocate(count) {
      const out: number[] = [];
      for (let c = cursor; c <= maxCluster && out.length < count; c++) {
        if (next[c] === 0 && owners.owner[c] === 0) out.push(c);
      }
      if (out.length < count) return null;
      for (const c of out) {
        owners.owner[c] = 0xffffffff;
        // Reserve it in the FAT now so no later allocation takes it twice.
        ctx.setEnd(c);
      }
      cursor = out[out.length - 1]! + 1;
      return out;
    },
    writeZeroCluster(c) {
      source.writeAt(new Uint8Array(bpc), 0, bpc, ctx.clusterPosition(c));
    },
  };
  const freeFrom = (owner: number, first: number, count: number): number => {
    let c = first;
    let freed = 0;
    for (let i = 0; i < count && c >= 2 && c <= maxCluster && owners.owner[c] === owner; i++) {
      const v = next[c]!;
      ctx.setNext(c, 0);
      owners.owner[c] = 0;
      freed++;
      c = v;
    }
    return freed;
  };
  const editEntry = (edit: EntryEdit): void => {
    const slot = readBytes(source, edit.position, DIR_ENTRY_SIZE);
    if (edit.delete) slot[0] = DELETED_MARK;
    if (edit.rawName) slot.set(edit.rawName, 0);
    if (edit.attributes !== undefined) slot[11] = edit.attributes;
    if (edit.ntFlags !== undefined) slot[12] = edit.ntFlags;
    if (edit.start !== undefined) {
      slot.writeUInt16LE(edit.start & 0xffff, 26);
      if (boot.fatType === 'fat32') slot.writeUInt16LE(Math.floor(edit.start / 0x10000) & 0xffff, 20);
    }
    if (edit.size !== undefined) slot.writeUInt32LE(edit.size >>> 0, 28);
    source.writeAt(slot, 0, DIR_ENTRY_SIZE, edit.position);
    if (edit.rawName && edit.lfnSlots) {
      const sum = Uint8Array.of(shortNameChecksum(edit.rawName));
      for (const p of edit.lfnSlots) source.writeAt(sum, 0, 1, p + 13);
    }
  };

  // 1. FAT copies: every entry of the chosen copy goes to every copy at flush.
  if (plan.syncFats) {
    for (let c = 2; c <= maxCluster; c++) fat.set(c, next[c]!);
    list(FsckCode.FAT_MISMATCH, `copied FAT ${plan.chosenCopy + 1} (the copy consistent with the directory tree) over the other ${boot.numberOfFats - 1}`);
  }

  // 2. Chain cuts: loops broken, bad links ended, over-long chains truncated to the size.
  for (const cut of plan.cuts) {
    if (cut.cutAt === 0) {
      const start = owners.start[cut.owner]!;
      const freed = freeFrom(cut.owner, start, cut.free);
      editEntry({ position: owners.entryPos[cut.owner]!, path: cut.path, start: 0 });
      list(FsckCode.CHAIN_SIZE, `cleared the start cluster and freed ${count(freed, 'cluster')} past the size`, cut.path);
      continue;
    }
    const after = next[cut.cutAt]!;
    ctx.setEnd(cut.cutAt);
    const freed = cut.free > 0 ? freeFrom(cut.owner, after, cut.free) : 0;
    list(cut.free > 0 ? FsckCode.CHAIN_SIZE : FsckCode.CHAIN_RANGE, `${cut.reason}${freed > 0 ? `, freed ${count(freed, 'cluster')}` : ''}`, cut.path);
  }

  // 3. Directory slots.
  for (const d of plan.slotDeletes) {
    source.writeAt(Uint8Array.of(DELETED_MARK), 0, 1, d.position);
    list(FsckCode.LFN_ORPHAN, `removed a stray long-name slot (${d.why})`, d.path);
  }
  for (const f of plan.lfnReservedFixes) {
    const slot = readBytes(source, f.position, DIR_ENTRY_SIZE);
    slot[11] &= 0x3f;
    slot[12] = 0;
    slot[26] = 0;
    slot[27] = 0;
    source.writeAt(slot, 0, DIR_ENTRY_SIZE, f.position);
    list(FsckCode.LFN_RESERVED, 'set the reserved fields of a long-name slot to 0', f.path);
  }
  for (const edit of plan.entryEdits) {
    editEntry(edit);
    const what = edit.delete
      ? 'removed the entry'
      : [
          edit.rawName ? `renamed the short name to "${Buffer.from(edit.rawName).toString('latin1', 0, 8).trimEnd()}.${Buffer.from(edit.rawName).toString('latin1', 8, 11).trimEnd()}"` : null,
          edit.start !== undefined ? `set the start cluster to ${edit.start}` : null,
          edit.size !== undefined ? `set the size to ${edit.size}` : null,
          edit.attributes !== undefined ? 'marked it as a directory' : null,
          edit.ntFlags !== undefined ? `cleared the garbage bits of the case byte (now 0x${edit.ntFlags.toString(16)})` : null,
        ]
          .filter(Boolean)
          .join(', ');
    const code = edit.code ?? (edit.delete ? FsckCode.START_CLUSTER : edit.rawName ? FsckCode.BAD_NAME : edit.ntFlags !== undefined ? FsckCode.CASE_BYTE : FsckCode.CHAIN_SIZE);
    const labelWhat = edit.delete ? 'removed the invalid volume label entry' : `set the volume label entry to "${Buffer.from(edit.rawName ?? []).toString('latin1').trimEnd()}" (as the boot sector says)`;
    list(code, edit.code === FsckCode.LABEL && (edit.delete || edit.rawName) ? labelWhat : what, edit.path);
  }

  // 4. Cross-links: the later owner gets its own copy of the shared clusters.
  const buf = new Uint8Array(bpc);
  for (const x of plan.crossLinks) {
    const shared: number[] = [];
    const want = x.needed - x.ownCount;
    for (let c = x.shared; shared.length < want && c >= 2 && c <= maxCluster && owners.owner[c] === x.other; c = next[c]!) shared.push(c);
    const fresh = shared.length > 0 ? ctx.allocate(shared.length) : [];
    if (!fresh) {
      // No room for a copy: end the file before the shared part (its size follows).
      if (x.prev !== 0) ctx.setEnd(x.prev);
      else editEntry({ position: owners.entryPos[x.owner]!, path: x.path, start: 0 });
      editEntry({ position: owners.entryPos[x.owner]!, path: x.path, size: x.ownCount * bpc });
      list(FsckCode.CROSSLINK, `no free space for a copy: ended the file before the shared cluster ${x.shared}, size ${x.ownCount * bpc}`, x.path);
      continue;
    }
    fresh.forEach((c, i) => {
      source.readAt(buf, 0, bpc, ctx.clusterPosition(shared[i]!));
      source.writeAt(buf, 0, bpc, ctx.clusterPosition(c));
      if (i + 1 < fresh.length) ctx.setNext(c, fresh[i + 1]!);
      else ctx.setEnd(c);
      owners.owner[c] = x.owner;
    });
    if (fresh.length > 0) {
      if (x.prev !== 0) ctx.setNext(x.prev, fresh[0]!);
      else editEntry({ position: owners.entryPos[x.owner]!, path: x.path, start: fresh[0]! });
    } else if (x.prev !== 0) ctx.setEnd(x.prev);
    list(FsckCode.CROSSLINK, `gave the file its own copy of ${count(fresh.length, 'cluster')} shared with ${x.otherPath}`, x.path);
    const have = x.ownCount + fresh.length;
    if (have < x.needed) {
      const size = owners.size[x.owner]!;
      const newSize = Math.min(size, have * bpc);
      editEntry({ position: owners.entryPos[x.owner]!, path: x.path, size: newSize });
      list(FsckCode.CHAIN_SIZE, `set the size to ${newSize} (the chain holds ${have} clusters)`, x.path);
    }
  }

  // 4b. Slots past end marks emptied, then entries moved down and '.'/'..' created (after every
  // other slot edit, so an edited entry moves with its edits).
  for (const m of plan.endMarks) source.writeAt(Uint8Array.of(0), 0, 1, m.position);
  if (plan.endMarks.length > 0) list(FsckCode.AFTER_END, `emptied ${count(plan.endMarks.length, 'slot')} after end-of-directory marks`);
  for (const w of plan.slotWrites) {
    const bytes = w.bytes ?? readBytes(source, w.moveFrom!, DIR_ENTRY_SIZE);
    source.writeAt(bytes, 0, DIR_ENTRY_SIZE, w.position);
    list(FsckCode.DOT, w.what, w.path);
  }

  // 5. Lost chains: saved as files (or freed with --free-lost).
  if (plan.lostChains.length > 0) {
    for (const lost of plan.lostChains) if (!lost.terminated) ctx.setEnd(lost.last);
    if (input.freeLost) {
      let freed = 0;
      for (const lost of plan.lostChains) freed += freeFrom(lost.owner, lost.head, lost.length);
      list(FsckCode.LOST, `freed ${count(freed, 'lost cluster')} in ${count(plan.lostChains.length, 'chain')}`);
    } else {
      const { saved, directory } = saveLostChains(
        ctx,
        plan.lostChains.map((l) => ({ head: l.head, clusters: l.length })),
      );
      if (saved > 0) list(FsckCode.LOST, `saved ${count(saved, 'lost chain')} as ${directory}/FILE0000.CHK...`, directory);
      if (saved < plan.lostChains.length) failed.push(FsckCode.LOST);
    }
  }

  // 6. The boot sector: dirty flag, then the backup equal to the primary.
  const primary = Uint8Array.from(input.bootState.primary);
  let primaryChanged = false;
  if (plan.clearDirty && primary[stateByteOffset(boot)]! & STATE_DIRTY) {
    primary[stateByteOffset(boot)]! &= ~STATE_DIRTY;
    primaryChanged = true;
    source.writeAt(primary, 0, primary.length, 0);
    list(FsckCode.DIRTY, 'cleared the dirty flag of the boot sector');
  }
  if (plan.restoreSignature) {
    primary[extendedSignatureOffset(boot)] = EXTENDED_BOOT_SIGNATURE;
    primaryChanged = true;
    source.writeAt(primary, 0, primary.length, 0);
    list(FsckCode.BOOT, 'wrote the extended boot signature 0x29 back');
  }
  if (plan.bootLabel) {
    const at = bootLabelOffset(boot);
    primary.set(plan.bootLabel, at);
    primaryChanged = true;
    source.writeAt(primary, 0, primary.length, 0);
    list(FsckCode.LABEL, `set the boot sector label to "${Buffer.from(plan.bootLabel).toString('latin1').trimEnd()}" (as the root directory says)`);
  }
  if (plan.bootMedia !== null) {
    primary[21] = plan.bootMedia;
    primaryChanged = true;
    source.writeAt(primary, 0, primary.length, 0);
    list(FsckCode.MEDIA, `set the boot sector media byte to 0x${plan.bootMedia.toString(16)} (as FAT[0] says)`);
  }
  if (plan.backupField !== null) {
    primary[BACKUP_FIELD_OFFSET] = plan.backupField & 0xff;
    primary[BACKUP_FIELD_OFFSET + 1] = plan.backupField >> 8;
    primaryChanged = true;
    source.writeAt(primary, 0, primary.length, 0);
    list(FsckCode.BOOT, `set the backup boot sector field back to sector ${plan.backupField} (which holds the backup)`);
  }
  if (plan.fsInfoField !== null) {
    primary[FSINFO_FIELD_OFFSET] = plan.fsInfoField & 0xff;
    primary[FSINFO_FIELD_OFFSET + 1] = plan.fsInfoField >> 8;
    primaryChanged = true;
    source.writeAt(primary, 0, primary.length, 0);
    list(FsckCode.FSINFO, `set the FSInfo sector field back to sector ${plan.fsInfoField} (which holds the FSInfo)`);
  }
  const backupSector = input.bootState.backupSector;
  if (backupSector !== null && (plan.restoreBackup || primaryChanged)) {
    source.writeAt(primary, 0, primary.length, backupSector * boot.bytesPerSector);
    if (plan.restoreBackup) list(FsckCode.BOOT_BACKUP, `copied the primary boot sector to the backup (sector ${backupSector})`);
  }

  // 7. FAT: flush, then the reserved entries FAT[0] and FAT[1] in every copy.
  fat.flush();
  if (plan.syncFats || plan.fixFat0 || plan.fixFat1) {
    const bps = boot.bytesPerSector;
    for (let copy = 0; copy < boot.numberOfFats; copy++) {
      const at = (boot.firstFatSector + copy * boot.sectorsPerFat) * bps;
      const sector = readBytes(source, at, bps);
      writeFatValue(sector, boot.fatType, 0, expectedFat0(boot, plan.bootMedia ?? boot.media));
      writeFatValue(sector, boot.fatType, 1, input.fat1 | CLEAN_SHUTDOWN_BIT[boot.fatType] | HARD_ERROR_BIT[boot.fatType]);
      source.writeAt(sector, 0, bps, at);
    }
    if (plan.fixFat0) list(FsckCode.MEDIA, `set FAT[0] to the media byte 0x${(plan.bootMedia ?? boot.media).toString(16)}`);
    if (plan.fixFat1) list(FsckCode.FAT_RESERVED, 'set FAT[1] to end-of-chain with the clean and no-error bits');
  }

  // 8. FSInfo from the final FAT.
  const bs = input.bootState;
  if (bs.fsInfoSector !== null) {
    let free = 0;
    let firstFree = 0;
    for (let c = 2; c <= maxCluster; c++) {
      if (next[c] === 0) {
        free++;
        if (firstFree === 0) firstFree = c;
      }
    }
    const hint = bs.fsInfoValid && bs.fsInfoNextFree !== null ? bs.fsInfoNextFree : firstFree || null;
    const sector = encodeFsInfo(free, hint, boot.bytesPerSector);
    const at = bs.fsInfoSector * boot.bytesPerSector;
    const current = readBytes(source, at, boot.bytesPerSector);
    // Keep whatever else the sector holds (reserved bytes) unless the signatures were wrong.
    if (bs.fsInfoValid) {
      current.writeUInt32LE(free, 488);
      current.writeUInt32LE(hint ?? 0xffffffff, 492);
    }
    const out = bs.fsInfoValid ? current : sector;
    if (plan.rewriteFsInfo || bs.rawFreeCount !== free && bs.rawFreeCount !== 0xffffffff) {
      source.writeAt(out, 0, out.length, at);
      list(FsckCode.FSINFO, `rewrote FSInfo: ${free} free clusters, next-free hint ${hint ?? 'unknown'}`);
    }
    if (plan.rewriteFsInfoBackup && bs.fsInfoBackupSector !== null) {
      const final = readBytes(source, at, boot.bytesPerSector);
      source.writeAt(final, 0, final.length, bs.fsInfoBackupSector * boot.bytesPerSector);
      list(FsckCode.FSINFO_BACKUP, `copied the FSInfo sector over the backup (sector ${bs.fsInfoBackupSector})`);
    }
  }
  source.sync();
  for (const [code, n] of unlisted) repairs.push({ code, message: `... and ${n.toLocaleString('en-US')} more repairs of ${code} not listed` });
  return { repairs, failed };
}

export { OwnerKind };
