/**
 * A directory opened for writing (fatgen103 sections 6 and 7): its slots held in
 * memory, an index of the names in it, and where each slot lives on disk. New
 * entries go into a run of free slots (deleted ones, or past the end marker); a full
 * directory grows by zeroed clusters; the FAT12/16 fixed root cannot grow. Changed
 * slots are written back by `flush`, once per command.
 *
 * Space is reserved in two steps so that a failed operation takes nothing: `reserve`
 * finds slots and allocates any growth clusters (bits only); `insert` commits.
 */
import type { BlockSource } from '../../io/block-source.js';
import { DiskkitError, ErrorCode } from '../errors.js';
import type { ClusterAllocator } from './allocator.js';
import type { BootSector, FatType } from './boot-sector.js';
import {
  Attr,
  DELETED_MARK,
  DIR_ENTRY_SIZE,
  END_OF_DIRECTORY,
  encodeDirEntry,
  encodeDosDateTime,
  encodeRawName,
  NT_LOWER_BASE,
  NT_LOWER_EXT,
  rawNameString,
  shortNameText,
  type DirEntry,
} from './dir-entry.js';
import { foldName, parseDirectory, type DirRecord } from './directory.js';
import type { ClusterRun, FatTable } from './fat-table.js';
import { encodeLongNameSlotsInto, longNameSlotCount } from './long-name.js';
import { basisName, canonicalLongName, exactShortName, generateShortName, validateLongName } from './short-name.js';

/** fatgen103 section 6: at most 65,536 32-byte entries per directory. */
export const MAX_DIRECTORY_SLOTS = 65536;

/** Slots held for an entry not yet written. */
export interface SlotReservation {
  slot: number;
  count: number;
  /** Clusters allocated to grow the directory (linked on insert, released on cancel). */
  growth: ClusterRun[];
}

/** The short name, NT case flags and long-name slots a new entry needs. */
export interface EntryName {
  name: string;
  rawShort: Uint8Array;
  ntFlags: number;
  /** How many long-name slots go before the short entry (0: the short name says it all). */
  longSlotCount: number;
  /** `rawShort` as the 11-character ASCII text short-name.ts made it from, when it was made here (saves decoding it again). */
  rawText?: string;
}

/** Slots an entry takes: its long-name slots and the short entry. */
export function slotsFor(name: EntryName): number {
  return name.longSlotCount + 1;
}

/**
 * Checks that `name` can be stored as it is; throws E_BAD_NAME naming it otherwise.
 * Every new entry passes here. A name the user typed (mkdir, mv, cp's destination
 * operand) is refused rather than changed: they chose it and can type another, and a
 * directory made under a name other than the one asked for breaks the next command
 * that uses it. Names that come from a copy's source were made storable before
 * (storable-name.ts), with a warning.
 */
export function validateNewName(name: string, path: string): void {
  try {
    validateLongName(name);
  } catch (error) {
    if (error instanceof DiskkitError) error.context.path = path;
    throw error;
  }
  // Windows drops trailing dots and spaces, so such a name would not come back as given.
  if (canonicalLongName(name) !== name) {
    throw new DiskkitError(ErrorCode.BAD_NAME, `name ${JSON.stringify(name)} ends with a dot or a space, which FAT cannot store`, { context: { path, name } });
  }
}

/** Builds the entry fields shared by files and directories. */
export function newDirEntry(name: EntryName, fields: { attributes: number; startCluster: number; fileSize: number; mtime: Date; atime: Date; ctime: Date }): DirEntry {
  const m = encodeDosDateTime(fields.mtime);
  const c = encodeDosDateTime(fields.ctime);
  const a = encodeDosDateTime(fields.atime);
  return {
    rawName: name.rawShort,
    attributes: fields.attributes,
    ntFlags: name.ntFlags,
    createTimeTenth: c.tenths,
    createTime: c.time,
    createDate: c.date,
    accessDate: a.date,
    writeTime: m.time,
    writeDate: m.date,
    startCluster: fields.startCluster,
    fileSize: fields.fileSize,
  };
}

export class WritableDirectory {
  /** Live slots; `flush` writes the changed range. */
  bytes: Uint8Array;
  /** What `bytes` is a view of, with room to grow into. */
  private store: Uint8Array;
  /** The chain holding the directory (null for the FAT12/16 fixed root). */
  private readonly runs: ClusterRun[] | null;
  private readonly byName = new Map<string, DirRecord>();
  private readonly shortTaken = new Set<string>();
  /** Next numeric tail to try per basis name, so many similar names stay O(1) each. */
  private readonly nextTail = new Map<string, number>();
  private endSlot: number;
  private deletedSlots = 0;
  private dirtyFrom = Infinity;
  private dirtyTo = 0;
  /** Told of each cluster run the directory grows into (all of it is then written by the next `flush`). */
  onGrowth: ((runs: readonly ClusterRun[]) => void) | null = null;

  constructor(
    readonly cluster: number,
    readonly path: string,
    bytes: Uint8Array,
    runs: ClusterRun[] | null,
    private readonly boot: BootSector,
    private readonly fat: FatTable,
  ) {
    this.bytes = bytes;
    this.store = bytes;
    this.runs = runs;
    const parsed = parseDirectory(bytes, boot.fatType, { path });
    this.endSlot = parsed.endSlot;
    for (const r of parsed.records) {
      this.shortTaken.add(rawNameString(r.entry.rawName));
      if (r.isDot) continue;
      this.index(r);
    }
    for (let s = 0; s < this.endSlot; s++) if (bytes[s * DIR_ENTRY_SIZE] === DELETED_MARK) this.deletedSlots++;
  }

  get fatType(): FatType {
    return this.boot.fatType;
  }

  /** The live entry called `name` (long or short, case-insensitively), if any. */
  find(name: string): DirRecord | undefined {
    return this.byName.get(foldName(name));
  }

  /** Live entries other than '.' and '..'. */
  entries(): DirRecord[] {
    return [...new Set(this.byName.values())].sort((a, b) => a.slotIndex - b.slotIndex);
  }

  /** Chooses the short name (unique here), NT case flags and long-name slots for `name`. */
  nameFor(name: string): EntryName {
    const exact = exactShortName(name);
    if (exact && !this.shortTaken.has(exact.raw)) {
      return { name, rawShort: encodeRawName(exact.raw), ntFlags: exact.ntCase, longSlotCount: 0, rawText: exact.raw };
    }
    const basis = basisName(name);
    const key = `${basis.base}.${basis.ext}`;
    const raw = generateShortName(name, this.shortTaken, this.nextTail.get(key) ?? 1, { exact, basis });
    const tilde = raw.lastIndexOf('~', 7);
    if (tilde !== -1) this.nextTail.set(key, Number(raw.slice(tilde + 1, 8).trim()) + 1);
    return { name, rawShort: encodeRawName(raw), ntFlags: 0, longSlotCount: longNameSlotCount(name), rawText: raw };
  }

  /**
   * Finds `count` consecutive free slots, allocating growth clusters when the
   * directory has none (nothing is written yet). Throws E_ROOT_FULL for the fixed
   * root and E_NO_SPACE when the directory is at its maximum or the volume is full.
   */
  reserve(count: number, allocator: ClusterAllocator): SlotReservation {
    const slotCount = this.bytes.length / DIR_ENTRY_SIZE;
    // Prefer the space past the end marker; reuse deleted slots only when there can be a long enough run.
    if (this.endSlot + count <= slotCount) return { slot: this.endSlot, count, growth: [] };
    if (this.deletedSlots >= count) {
      let run = 0;
      for (let s = 0; s < this.endSlot; s++) {
        run = this.bytes[s * DIR_ENTRY_SIZE] === DELETED_MARK ? run + 1 : 0;
        if (run === count) return { slot: s - count + 1, count, growth: [] };
      }
    }
    if (this.runs === null) {
      throw new DiskkitError(ErrorCode.ROOT_FULL, `the root directory is full (${slotCount} entries on ${this.boot.fatType.toUpperCase()})`, {
        context: { path: this.path },
        hint: 'put files in a subdirectory, or make the image with more root entries (diskkit mkfs --root-entries N)',
      });
    }
    const needSlots = this.endSlot + count - slotCount;
    const slotsPerCluster = this.boot.bytesPerCluster / DIR_ENTRY_SIZE;
    const clusters = Math.ceil(needSlots / slotsPerCluster);
    if (slotCount + clusters * slotsPerCluster > MAX_DIRECTORY_SLOTS) {
      throw new DiskkitError(ErrorCode.NO_SPACE, `directory is full (at most ${MAX_DIRECTORY_SLOTS} entries)`, { context: { path: this.path } });
    }
    const last = this.runs[this.runs.length - 1]!;
    const growth = allocator.allocate(clusters, { after: last.start + last.count - 1 });
    return { slot: this.endSlot, count, growth };
  }

  /** Writes the long-name slots and the short entry into a reservation; returns the new record. */
  insert(reservation: SlotReservation, name: EntryName, entry: DirEntry): DirRecord {
    if (reservation.growth.length > 0) this.grow(reservation.growth);
    const { slot, count } = reservation;
    if (count !== slotsFor(name)) throw new Error('reservation does not match the name');
    if (name.longSlotCount > 0) encodeLongNameSlotsInto(name.name, name.rawShort, this.bytes, slot * DIR_ENTRY_SIZE);
    const s = slot + name.longSlotCount;
    encodeDirEntry(entry, this.bytes, s * DIR_ENTRY_SIZE, this.boot.fatType);
    if (slot < this.endSlot) this.deletedSlots -= count;
    else {
      this.endSlot = slot + count;
      // Whatever follows must read as the end marker (a foreign writer may have left bytes there).
      if (this.endSlot * DIR_ENTRY_SIZE < this.bytes.length && this.bytes[this.endSlot * DIR_ENTRY_SIZE] !== END_OF_DIRECTORY) {
        this.bytes.fill(0, this.endSlot * DIR_ENTRY_SIZE, (this.endSlot + 1) * DIR_ENTRY_SIZE);
        this.touch(this.endSlot, 1);
      }
    }
    this.touch(slot, count);
    const record: DirRecord = {
      name: name.name,
      longName: name.longSlotCount > 0 ? name.name : null,
      shortName: name.rawText !== undefined && entry.rawName === name.rawShort ? asciiShortNameText(name.rawText, entry.ntFlags) : shortNameText(entry.rawName, entry.ntFlags),
      entry,
      slotIndex: s,
      firstSlotIndex: slot,
      deleted: false,
      isDirectory: (entry.attributes & Attr.DIRECTORY) !== 0,
      isDot: false,
    };
    this.shortTaken.add(name.rawText !== undefined && entry.rawName === name.rawShort ? name.rawText : rawNameString(entry.rawName));
    this.index(record);
    return record;
  }

  /**
   * Replaces the volume-label entry (root directory only, fatgen103 section 6), writes
   * a new one in a free slot, or with `entry` null marks it deleted. The label is not
   * a name in the directory, so it is never indexed for lookups.
   */
  setLabelEntry(entry: DirEntry | null, allocator: ClusterAllocator): void {
    let found = -1;
    for (let s = 0; s < this.endSlot && found < 0; s++) {
      const at = s * DIR_ENTRY_SIZE;
      const attr = this.bytes[at + 11]!;
      if (this.bytes[at] !== DELETED_MARK && (attr & 0x3f) !== Attr.LONG_NAME && (attr & Attr.VOLUME_ID) !== 0) found = s;
    }
    if (entry === null) {
      if (found < 0) return;
      this.bytes[found * DIR_ENTRY_SIZE] = DELETED_MARK;
      this.deletedSlots++;
      this.touch(found, 1);
      return;
    }
    if (found >= 0) {
      encodeDirEntry(entry, this.bytes, found * DIR_ENTRY_SIZE, this.boot.fatType);
      this.touch(found, 1);
      return;
    }
    const reservation = this.reserve(1, allocator);
    if (reservation.growth.length > 0) this.grow(reservation.growth);
    encodeDirEntry(entry, this.bytes, reservation.slot * DIR_ENTRY_SIZE, this.boot.fatType);
    if (reservation.slot < this.endSlot) this.deletedSlots--;
    else {
      this.endSlot = reservation.slot + 1;
      if (this.endSlot * DIR_ENTRY_SIZE < this.bytes.length && this.bytes[this.endSlot * DIR_ENTRY_SIZE] !== END_OF_DIRECTORY) {
        this.bytes.fill(0, this.endSlot * DIR_ENTRY_SIZE, (this.endSlot + 1) * DIR_ENTRY_SIZE);
        this.touch(this.endSlot, 1);
      }
    }
    this.touch(reservation.slot, 1);
  }

  /** Marks an entry and its long-name slots deleted (0xE5, fatgen103 section 6.1). */
  delete(record: DirRecord): void {
    for (let s = record.firstSlotIndex; s <= record.slotIndex; s++) {
      this.bytes[s * DIR_ENTRY_SIZE] = DELETED_MARK;
      this.deletedSlots++;
    }
    this.touch(record.firstSlotIndex, record.slotIndex - record.firstSlotIndex + 1);
    this.shortTaken.delete(rawNameString(record.entry.rawName));
    for (const [key, r] of this.byName) if (r === record) this.byName.delete(key);
  }

  /** Puts back slots `delete` marked (their bytes as saved before), for an operation that failed half-way. */
  restore(record: DirRecord, saved: Uint8Array): void {
    this.bytes.set(saved, record.firstSlotIndex * DIR_ENTRY_SIZE);
    this.deletedSlots -= record.slotIndex - record.firstSlotIndex + 1;
    this.touch(record.firstSlotIndex, record.slotIndex - record.firstSlotIndex + 1);
    this.shortTaken.add(rawNameString(record.entry.rawName));
    this.index(record);
  }

  /** Marks every slot for writing (a new directory, whose cluster holds stale bytes on disk). */
  markAllDirty(): void {
    this.touch(0, this.bytes.length / DIR_ENTRY_SIZE);
  }

  /** Rewrites the short entry of `record` in place (start cluster, size, times...). */
  rewrite(record: DirRecord, entry: DirEntry): void {
    encodeDirEntry(entry, this.bytes, record.slotIndex * DIR_ENTRY_SIZE, this.boot.fatType);
    record.entry = entry;
    this.touch(record.slotIndex, 1);
  }

  /** Points this directory's '..' entry (slot 1, fatgen103 section 6.2) at `parentCluster` (0 for the root). */
  setParent(parentCluster: number): void {
    const at = DIR_ENTRY_SIZE;
    if (this.bytes.length < 2 * DIR_ENTRY_SIZE || this.bytes[at] !== 0x2e || this.bytes[at + 1] !== 0x2e) {
      throw new DiskkitError(ErrorCode.CORRUPT, "directory has no '..' entry in its second slot", { context: { path: this.path } });
    }
    this.bytes[at + 20] = (parentCluster >>> 16) & 0xff;
    this.bytes[at + 21] = (parentCluster >>> 24) & 0xff;
    this.bytes[at + 26] = parentCluster & 0xff;
    this.bytes[at + 27] = (parentCluster >>> 8) & 0xff;
    if (this.boot.fatType !== 'fat32') this.bytes.fill(0, at + 20, at + 22);
    this.touch(1, 1);
  }

  /** Writes the changed slots back (one write per contiguous piece). */
  flush(source: BlockSource): void {
    if (this.dirtyTo <= this.dirtyFrom) return;
    const from = this.dirtyFrom * DIR_ENTRY_SIZE;
    const to = this.dirtyTo * DIR_ENTRY_SIZE;
    this.dirtyFrom = Infinity;
    this.dirtyTo = 0;
    if (this.runs === null) {
      source.writeAt(this.bytes, from, to - from, this.boot.rootDirSector * this.boot.bytesPerSector + from);
      return;
    }
    const clusterBytes = this.boot.bytesPerCluster;
    let runStart = 0;
    for (const run of this.runs) {
      const runEnd = runStart + run.count * clusterBytes;
      const a = Math.max(from, runStart);
      const b = Math.min(to, runEnd);
      if (a < b) source.writeAt(this.bytes, a, b - a, this.fat.clusterPosition(run.start) + (a - runStart));
      runStart = runEnd;
      if (runStart >= to) break;
    }
  }

  /** Every cluster of the directory's chain. */
  clusterRuns(): readonly ClusterRun[] {
    return this.runs ?? [];
  }

  private grow(growth: ClusterRun[]): void {
    this.onGrowth?.(growth);
    const runs = this.runs!;
    const last = runs[runs.length - 1]!;
    this.fat.linkRuns(growth, last.start + last.count - 1);
    for (const run of growth) {
      const tail = runs[runs.length - 1]!;
      if (tail.start + tail.count === run.start) tail.count += run.count;
      else runs.push({ ...run });
    }
    const added = growth.reduce((n, r) => n + r.count, 0) * this.boot.bytesPerCluster;
    const oldSlots = this.bytes.length / DIR_ENTRY_SIZE;
    const needed = this.bytes.length + added;
    // Room doubles: a directory growing a cluster at a time is not copied whole each time.
    // Past `bytes` the store is all zeros (nothing writes there), as new clusters must read.
    if (this.store.length < needed) {
      const store = new Uint8Array(Math.min(Math.max(needed, 2 * this.store.length), Math.max(needed, MAX_DIRECTORY_SLOTS * DIR_ENTRY_SIZE)));
      store.set(this.bytes);
      this.store = store;
    }
    this.bytes = this.store.subarray(0, needed);
    // New clusters must reach the disk zeroed even where no entry lands.
    this.touch(oldSlots, added / DIR_ENTRY_SIZE);
  }

  private touch(slot: number, count: number): void {
    if (slot < this.dirtyFrom) this.dirtyFrom = slot;
    if (slot + count > this.dirtyTo) this.dirtyTo = slot + count;
  }

  private index(r: DirRecord): void {
    const short = foldName(r.shortName);
    if (!this.byName.has(short)) this.byName.set(short, r);
    if (r.longName === null) return;
    const long = foldName(r.longName);
    if (!this.byName.has(long)) this.byName.set(long, r);
  }
}

/**
 * shortNameText for a raw name made here (ASCII, no 0x05 escape): base and extension
 * trimmed of their padding, lower-cased where the NT flags say so.
 */
function asciiShortNameText(raw: string, ntFlags: number): string {
  let base = raw.slice(0, 8).trimEnd();
  let ext = raw.slice(8).trimEnd();
  if (ntFlags & NT_LOWER_BASE) base = base.toLowerCase();
  if (ntFlags & NT_LOWER_EXT) ext = ext.toLowerCase();
  return ext ? `${base}.${ext}` : base;
}

/** The 32 bytes of '.' or '..' for a new directory (fatgen103 section 6.2). */
export function dotEntry(which: '.' | '..', cluster: number, when: Date): DirEntry {
  const t = encodeDosDateTime(when);
  return {
    rawName: new TextEncoder().encode(which.padEnd(11, ' ')),
    attributes: Attr.DIRECTORY,
    ntFlags: 0,
    createTimeTenth: t.tenths,
    createTime: t.time,
    createDate: t.date,
    accessDate: t.date,
    writeTime: t.time,
    writeDate: t.date,
    startCluster: cluster,
    fileSize: 0,
  };
}
