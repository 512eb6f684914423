/**
 * The directory-tree walk of the check: every directory is read once (an explicit
 * stack, no recursion), every entry checked (name, dot entries, start cluster, size
 * against chain, long-name runs, duplicates), and every chain walked over the
 * ownership map. A cluster already owned ends the walk: by its own owner it is a
 * loop, by another a cross-link; so each cluster is visited once per check, the
 * walk is O(clusters + entries), and directory cycles cannot recur.
 */
import { count } from '../../plural.js';
import type { BlockSource } from '../../../io/block-source.js';
import type { ReadMode } from '../../../io/scan.js';
import type { Extent } from '../../volume.js';
import type { BootSector } from '../boot-sector.js';
import { Attr, DELETED_MARK, DIR_ENTRY_SIZE, NT_LOWER_BASE, NT_LOWER_EXT, isDotEntry } from '../dir-entry.js';
import { badClusterValue } from '../fat-entry.js';
import { badShortName, sanitizeShortName, scanDirectorySlots, shortNameForMessage } from './dir-scan.js';
import { entryDisplayName, nameResolver } from './entry-names.js';
import { ShortNameSet } from './short-name-set.js';
import { FindingList, FsckCode } from './findings.js';
import { OwnerKind, Owners, joinPath } from './ownership.js';
import type { RepairPlan } from './plan.js';
import { extraLabelSlots, findRootLabel, type RootLabel } from './volume-label.js';

/** The NT case byte's only meaningful bits (lower-case base and extension); others are garbage some tools leave. */
const CASE_BYTE_MEANINGFUL = NT_LOWER_BASE | NT_LOWER_EXT;

/** fatgen103 section 6: at most 65,536 entries in a directory; slots past that are not read. */
export const MAX_DIRECTORY_SLOTS = 65536;

export interface WalkContext {
  source: BlockSource;
  boot: BootSector;
  /** Raw FAT values of the copy being checked. */
  next: Uint32Array;
  owners: Owners;
  findings: FindingList;
  plan: RepairPlan;
  mode?: ReadMode;
  files: number;
  dirs: number;
  /** The root directory's volume label entry, found during the walk. */
  rootLabel: RootLabel | null;
}

interface PendingDir {
  id: number;
  path: string;
  /** Clusters of the directory (the first MAX_DIRECTORY_SLOTS slots' worth); empty for the fixed root. */
  clusters: number[];
  isRoot: boolean;
  selfStart: number;
  /** What '..' must hold: the parent's start cluster, 0 when the parent is the root. */
  parentStart: number;
}

export interface ChainResult {
  count: number;
  /** Cluster number `needed` of the chain (0 when the chain is shorter). */
  keepLast: number;
  problem: 'loop' | 'range' | 'cross' | null;
  /** Where the problem sits: the cluster met again, the cluster with the bad link, the shared cluster. */
  at: number;
  prev: number;
  value: number;
  other: number;
}

/** The one result object walkChain fills (a million chains must not mean a million objects). */
const chainResult: ChainResult = { count: 0, keepLast: 0, problem: null, at: 0, prev: 0, value: 0, other: 0 };

/**
 * Walks a chain from `start`, marking each cluster as `id`'s. Stops at end of chain,
 * at a bad link, or at a cluster some chain already owns. At most one step per
 * cluster of the volume. The result is valid until the next call.
 */
export function walkChain(ctx: WalkContext, id: number, start: number, needed: number, collect: number[] | null, collectLimit = Infinity): ChainResult {
  const { next } = ctx;
  const owner = ctx.owners.owner;
  const maxCluster = ctx.boot.clusterCount + 1;
  const bad = badClusterValue(ctx.boot.fatType);
  const r = chainResult;
  r.count = 0;
  r.keepLast = 0;
  r.problem = null;
  r.at = 0;
  r.prev = 0;
  r.value = 0;
  r.other = 0;
  let c = start;
  let prev = 0;
  for (;;) {
    const o = owner[c]!;
    if (o !== 0) {
      r.problem = o === id ? 'loop' : 'cross';
      r.at = c;
      r.prev = prev;
      r.other = o;
      return r;
    }
    owner[c] = id;
    r.count++;
    if (r.count === needed) r.keepLast = c;
    if (collect && collect.length < collectLimit) collect.push(c);
    const v = next[c]!;
    if (v !== 0 && v !== bad) ctx.owners.allocatedOwned++;
    if (v > bad) return r;
    if (v >= 2 && v <= maxCluster) {
      // A link to a free or bad cluster ends the chain here (the target is not part of it).
      const target = next[v]!;
      if (target !== 0 && target !== bad) {
        prev = c;
        c = v;
        continue;
      }
      r.problem = 'range';
      r.at = c;
      r.value = target === 0 ? 0 : bad;
      r.other = v;
      return r;
    }
    r.problem = 'range';
    r.at = c;
    r.value = v;
    return r;
  }
}

function rangeWhy(r: ChainResult, bad: number): string {
  const v = r.value;
  return v === 0 ? `runs into the free cluster ${r.other}` : v === bad ? `runs into the cluster ${r.other} marked bad` : `has the invalid link 0x${v.toString(16)}`;
}

/** Walks the whole tree from the root. */
export async function walkTree(ctx: WalkContext): Promise<void> {
  const b = ctx.boot;
  const slotsPerCluster = b.bytesPerCluster / DIR_ENTRY_SIZE;
  const clusterLimit = Math.ceil(MAX_DIRECTORY_SLOTS / slotsPerCluster);
  const stack: PendingDir[] = [];
  ctx.owners.resolveName = nameResolver(ctx.source, b, ctx.next, ctx.owners, MAX_DIRECTORY_SLOTS);
  if (b.fatType === 'fat32') {
    const id = ctx.owners.add(OwnerKind.ROOT, '', 0, -1, b.rootCluster, 0);
    const clusters: number[] = [];
    const r = walkChain(ctx, id, b.rootCluster, Infinity, clusters, clusterLimit);
    noteDirChain(ctx, id, '/', r, true);
    stack.push({ id, path: '/', clusters, isRoot: true, selfStart: b.rootCluster, parentStart: 0 });
  } else {
    const id = ctx.owners.add(OwnerKind.ROOT, '', 0, -1, 0, 0);
    stack.push({ id, path: '/', clusters: [], isRoot: true, selfStart: 0, parentStart: 0 });
  }
  while (stack.length > 0) {
    const dir = stack.pop()!;
    await checkDirectory(ctx, dir, stack, clusterLimit);
  }
}

/** Findings and cuts for a directory's own chain. */
function noteDirChain(ctx: WalkContext, id: number, path: string, r: ChainResult, isRoot: boolean): void {
  ctx.owners.clusters[id] = r.count;
  const bad = badClusterValue(ctx.boot.fatType);
  if (r.problem === 'loop') {
    ctx.findings.add(FsckCode.LOOP, `directory chain loops back to cluster ${r.at}`, { path, clusters: [r.prev, r.at] });
    ctx.plan.cuts.push({ owner: id, cutAt: r.prev, free: 0, path, reason: `broke the loop at cluster ${r.prev}` });
  } else if (r.problem === 'range') {
    ctx.findings.add(FsckCode.CHAIN_RANGE, `directory chain ${rangeWhy(r, bad)} after cluster ${r.at}`, { path, clusters: [r.at] });
    ctx.plan.cuts.push({ owner: id, cutAt: r.at, free: 0, path, reason: `ended the chain at cluster ${r.at}` });
  } else if (r.problem === 'cross' && !isRoot) {
    // handled by the caller (it knows whether the start itself is shared)
  } else if (r.problem === 'cross') {
    ctx.findings.add(FsckCode.CROSSLINK, `root directory chain runs into cluster ${r.at} of ${ctx.owners.pathOf(r.other)}`, {
      path: ['/', ctx.owners.pathOf(r.other)],
      clusters: [r.at],
    });
    ctx.plan.cuts.push({ owner: id, cutAt: r.prev, free: 0, path, reason: `ended the root chain before cluster ${r.at}` });
  }
}

/**
 * Reads `extents` into `into`, in order. With a read mode chosen (--mode) through
 * scanExtents; by default with one positional read per extent straight into `into`
 * (a directory is a few clusters: the scan machinery's buffers and copies would cost
 * more than the read).
 */
async function readExtents(ctx: WalkContext, extents: Extent[], into: Uint8Array): Promise<void> {
  if (ctx.mode !== undefined) {
    // The read-mode machinery (a dozen modules) is loaded only when a mode was asked for.
    const { scanExtents } = await import('../../../io/scan.js');
    await scanExtents(ctx.source, extents, (chunk, at) => into.set(chunk, at), { mode: ctx.mode });
    return;
  }
  let at = 0;
  for (const e of extents) {
    ctx.source.readAt(into, at, e.length, e.position);
    at += e.length;
  }
}

async function readDirectoryBytes(ctx: WalkContext, dir: PendingDir): Promise<{ bytes: Uint8Array; position: (slot: number) => number }> {
  const b = ctx.boot;
  if (dir.clusters.length === 0 && dir.isRoot && b.fatType !== 'fat32') {
    const base = b.rootDirSector * b.bytesPerSector;
    const bytes = new Uint8Array(b.rootDirSectors * b.bytesPerSector);
    await readExtents(ctx, [{ position: base, length: bytes.length }], bytes);
    return { bytes, position: (slot) => base + slot * DIR_ENTRY_SIZE };
  }
  const bpc = b.bytesPerCluster;
  const clusterPos = (c: number): number => (b.firstDataSector + (c - 2) * b.sectorsPerCluster) * b.bytesPerSector;
  const extents: Extent[] = [];
  for (const c of dir.clusters) {
    const last = extents[extents.length - 1];
    const pos = clusterPos(c);
    if (last && last.position + last.length === pos) last.length += bpc;
    else extents.push({ position: pos, length: bpc });
  }
  const bytes = new Uint8Array(dir.clusters.length * bpc);
  if (bytes.length > 0) await readExtents(ctx, extents, bytes);
  const clusters = dir.clusters;
  return { bytes, position: (slot) => clusterPos(clusters[Math.floor((slot * DIR_ENTRY_SIZE) / bpc)]!) + ((slot * DIR_ENTRY_SIZE) % bpc) };
}

const names = new ShortNameSet();

/** What the per-entry helpers of one directory share. */
interface DirState {
  ctx: WalkContext;
  dir: PendingDir;
  bytes: Uint8Array;
  position: (slot: number) => number;
  stack: PendingDir[];
  clusterLimit: number;
}

/**
 * Checks one directory. The loop is kept small, with the common case (a valid, unique
 * name and a valid start cluster) inline and every anomaly in its own function: the
 * loop runs once per entry of the volume, and a small function is optimised sooner.
 */
async function checkDirectory(ctx: WalkContext, dir: PendingDir, stack: PendingDir[], clusterLimit: number): Promise<void> {
  const b = ctx.boot;
  const { findings, plan, owners, next } = ctx;
  const maxCluster = b.clusterCount + 1;
  const bad = badClusterValue(b.fatType);
  const fat32 = b.fatType === 'fat32';
  const { bytes, position } = await readDirectoryBytes(ctx, dir);
  const slotCount = Math.min(MAX_DIRECTORY_SLOTS, Math.floor(bytes.length / DIR_ENTRY_SIZE));
  const scan = scanDirectorySlots(bytes, slotCount);
  if (dir.isRoot) ctx.rootLabel = findRootLabel(bytes, slotCount, position);
  if (ctx.rootLabel !== null && dir.isRoot) {
    // A label owns no clusters: fsck.fat checks its start cluster as a file's and truncates it.
    const at = ctx.rootLabel.slot * DIR_ENTRY_SIZE;
    const labelStart = (fat32 ? (bytes[at + 20]! | (bytes[at + 21]! << 8)) * 0x10000 : 0) + (bytes[at + 26]! | (bytes[at + 27]! << 8));
    const labelSize = (bytes[at + 28]! | (bytes[at + 29]! << 8) | (bytes[at + 30]! << 16)) + bytes[at + 31]! * 0x1000000;
    if (labelStart !== 0 || labelSize !== 0) {
      findings.add(FsckCode.LABEL, `volume label entry has start cluster ${labelStart} and size ${labelSize}, not 0 and 0`, { path: dir.path });
      plan.entryEdits.push({ position: ctx.rootLabel.position, path: dir.path, start: 0, size: 0, code: FsckCode.LABEL });
    }
  }
  for (const s of extraLabelSlots(bytes, slotCount, dir.isRoot)) {
    const where = dir.isRoot ? 'a second volume label entry' : 'a volume label entry in a subdirectory';
    findings.add(FsckCode.LABEL, `slot ${s} holds ${where} (attribute 0x${bytes[s * DIR_ENTRY_SIZE + 11]!.toString(16)})`, { path: dir.path });
    plan.entryEdits.push({ position: position(s), path: dir.path, delete: true, code: FsckCode.LABEL });
  }
  for (const s of scan.lfnReserved) {
    findings.add(FsckCode.LFN_RESERVED, `long-name slot ${s} has non-zero reserved fields (attribute 0x${bytes[s * DIR_ENTRY_SIZE + 11]!.toString(16)}, type 0x${bytes[s * DIR_ENTRY_SIZE + 12]!.toString(16)}, start cluster ${bytes[s * DIR_ENTRY_SIZE + 26]! | (bytes[s * DIR_ENTRY_SIZE + 27]! << 8)})`, { path: dir.path });
    plan.lfnReservedFixes.push({ position: position(s), path: dir.path });
  }
  for (const orphan of scan.orphans) {
    findings.add(FsckCode.LFN_ORPHAN, `${orphan.why} (slots ${orphan.slots[0]}..${orphan.slots[orphan.slots.length - 1]})`, { path: dir.path });
    for (const s of orphan.slots) plan.slotDeletes.push({ position: position(s), path: dir.path, why: orphan.why });
  }
  names.reset(scan.count);
  const state: DirState = { ctx, dir, bytes, position, stack, clusterLimit };
  let sawDot = false;
  let sawDotDot = false;

  for (let i = 0; i < scan.count; i++) {
    const slot = scan.slot[i]!;
    const firstSlot = scan.firstSlot[i]!;
    const at = slot * DIR_ENTRY_SIZE;
    if (bytes[at] === 0x2e && isDotEntry(bytes.subarray(at, at + 11))) {
      const dotdot = bytes[at + 1] === 0x2e;
      if (checkDotEntry(state, slot, dotdot)) {
        if (dotdot) sawDotDot = true;
        else sawDot = true;
      }
      continue;
    }
    const attr = bytes[at + 11]!;
    const start = (fat32 ? (bytes[at + 20]! | (bytes[at + 21]! << 8)) * 0x10000 : 0) + (bytes[at + 26]! | (bytes[at + 27]! << 8));
    const size = (bytes[at + 28]! | (bytes[at + 29]! << 8) | (bytes[at + 30]! << 16)) + bytes[at + 31]! * 0x1000000;
    const isDir = (attr & Attr.DIRECTORY) !== 0;
    if (isDir) ctx.dirs++;
    else ctx.files++;

    // Names: the 8.3 characters, then uniqueness within the directory.
    const why = badShortName(bytes, at);
    if (why !== null || !names.addIfAbsent(bytes, at)) renameEntry(state, slot, firstSlot, why);
    if ((bytes[at + 12]! & ~CASE_BYTE_MEANINGFUL) !== 0) noteCaseByte(state, slot, firstSlot);
    if (isDir && size !== 0) {
      findings.add(FsckCode.DIR_SIZE, `directory has size ${size}, not 0`, { path: pathAt(state, slot, firstSlot) });
      plan.entryEdits.push({ position: position(slot), path: pathAt(state, slot, firstSlot), size: 0 });
    }

    if (start === 0) {
      if (isDir || size > 0) noteNoStart(state, slot, firstSlot, isDir, size);
      continue;
    }
    if (start < 2 || start > maxCluster || next[start] === 0 || next[start] === bad) {
      noteBadStart(state, slot, firstSlot, isDir, start);
      continue;
    }
    if (isDir) {
      enterDirectory(state, slot, firstSlot, start, size);
      continue;
    }
    const id = owners.add(OwnerKind.FILE, null, dir.id, position(slot), start, size);
    checkFileChain(ctx, id, dir.path, bytes, slot, firstSlot, start, size);
  }
  const endSlot = checkAfterEnd(state, slotCount, dir.isRoot ? 0 : 2);
  if (!dir.isRoot) {
    if (!sawDot) restoreDotEntry(state, 0, dir.selfStart, endSlot, slotCount);
    if (!sawDotDot) restoreDotEntry(state, 1, dir.parentStart, endSlot, slotCount);
  }
}

/**
 * Slots past the end mark (the first slot whose first byte is 0x00) must be empty:
 * DOS and diskkit never read them, but fsck.fat does, and finds the old entries
 * there. Each non-empty one gets 0x00 as first byte. Slots below `keep` are left to
 * restoreDotEntry. Returns the end mark's slot (slotCount when there is none).
 */
function checkAfterEnd(state: DirState, slotCount: number, keep: number): number {
  const { bytes, ctx, dir } = state;
  let end = 0;
  while (end < slotCount && bytes[end * DIR_ENTRY_SIZE] !== 0) end++;
  let stray = 0;
  for (let s = Math.max(end + 1, keep); s < slotCount; s++) {
    if (bytes[s * DIR_ENTRY_SIZE] === 0) continue;
    stray++;
    ctx.plan.endMarks.push({ position: state.position(s), path: dir.path });
  }
  if (stray > 0) ctx.findings.add(FsckCode.AFTER_END, `${count(stray, 'slot')} after the end-of-directory mark at slot ${end} ${stray === 1 ? 'is' : 'are'} not empty`, { path: dir.path });
  return end;
}

/** A '.' (slot 0) or '..' (slot 1) entry pointing at `target`, as mkfs.fat/mtools write them (no times). */
function dotEntryBytes(dotdot: boolean, target: number): Uint8Array {
  const e = new Uint8Array(DIR_ENTRY_SIZE);
  e.fill(0x20, 0, 11);
  e[0] = 0x2e;
  if (dotdot) e[1] = 0x2e;
  e[11] = Attr.DIRECTORY;
  e[20] = (target >>> 16) & 0xff;
  e[21] = (target >>> 24) & 0xff;
  e[26] = target & 0xff;
  e[27] = (target >>> 8) & 0xff;
  return e;
}

/**
 * A missing '.' or '..': written into its slot when that slot is free; when a plain
 * 8.3 entry (no long name) sits there, the entry is first moved down to a free slot
 * of the directory, as fsck.fat does. Anything else there (a long-name run) is left
 * and reported as not fixable.
 */
function restoreDotEntry(state: DirState, slot: number, target: number, endSlot: number, slotCount: number): void {
  const { ctx, dir, bytes, position } = state;
  const label = slot === 0 ? "'.'" : "'..'";
  const at = slot * DIR_ENTRY_SIZE;
  const write = { position: position(slot), path: dir.path, bytes: dotEntryBytes(slot === 1, target), what: `created the ${label} entry` };
  if (slot >= slotCount) {
    ctx.findings.add(FsckCode.DOT, `${label} entry is missing`, { path: dir.path, fixable: false });
    return;
  }
  const first = bytes[at]!;
  if (first === 0 || first === DELETED_MARK || slot >= endSlot) {
    ctx.findings.add(FsckCode.DOT, `${label} entry is missing`, { path: dir.path });
    ctx.plan.slotWrites.push(write);
    return;
  }
  const attr = bytes[at + 11]!;
  const longNameSlot = (attr & 0x3f) === Attr.LONG_NAME;
  const followsLongName = slot === 1 && (bytes[11]! & 0x3f) === Attr.LONG_NAME;
  // A free slot to move the entry to: a deleted one before the end mark, else the end mark itself when a slot after it remains.
  let free = -1;
  for (let s = 2; s < Math.min(endSlot, slotCount); s++) {
    if (bytes[s * DIR_ENTRY_SIZE] === DELETED_MARK && !isClaimed(ctx, position(s))) {
      free = s;
      break;
    }
  }
  if (free < 0 && endSlot >= 2 && endSlot + 1 < slotCount && !isClaimed(ctx, position(endSlot))) free = endSlot;
  if (longNameSlot || followsLongName || free < 0) {
    ctx.findings.add(FsckCode.DOT, `${label} entry is missing (slot ${slot} holds another entry)`, { path: dir.path, fixable: false });
    return;
  }
  ctx.findings.add(FsckCode.DOT, `${label} entry is missing (slot ${slot} holds another entry)`, { path: dir.path });
  ctx.plan.slotWrites.push({ position: position(free), path: dir.path, moveFrom: position(slot), what: `moved the entry in slot ${slot} to slot ${free}` });
  ctx.plan.slotWrites.push(write);
}

/** Whether an earlier restoreDotEntry already moved an entry into the slot at `position`. */
function isClaimed(ctx: WalkContext, position: number): boolean {
  return ctx.plan.slotWrites.some((w) => w.position === position);
}

/** Path of the entry at `slot` (built only for findings and directories). */
function pathAt(state: DirState, slot: number, firstSlot: number): string {
  return joinPath(state.dir.path, entryDisplayName(state.bytes, slot, firstSlot));
}

/** Marks an entry and its long-name slots deleted. */
function deleteEntry(state: DirState, slot: number, firstSlot: number, path: string, why: string): void {
  const { plan } = state.ctx;
  for (let s = firstSlot; s < slot; s++) plan.slotDeletes.push({ position: state.position(s), path, why });
  plan.entryEdits.push({ position: state.position(slot), path, delete: true });
}

/** Checks a '.' or '..' entry; true when it sits where it belongs (slot 0 or 1 of a subdirectory). */
function checkDotEntry(state: DirState, slot: number, dotdot: boolean): boolean {
  const { ctx, dir, bytes, position } = state;
  const { findings, plan } = ctx;
  const at = slot * DIR_ENTRY_SIZE;
  const attr = bytes[at + 11]!;
  const start = (ctx.boot.fatType === 'fat32' ? (bytes[at + 20]! | (bytes[at + 21]! << 8)) * 0x10000 : 0) + (bytes[at + 26]! | (bytes[at + 27]! << 8));
  const size = (bytes[at + 28]! | (bytes[at + 29]! << 8) | (bytes[at + 30]! << 16)) + bytes[at + 31]! * 0x1000000;
  const caseByte = bytes[at + 12]!;
  const label = dotdot ? "'..'" : "'.'";
  if (dir.isRoot || slot !== (dotdot ? 1 : 0)) {
    findings.add(FsckCode.DOT, `${label} entry ${dir.isRoot ? 'in the root directory' : `at slot ${slot}, not ${dotdot ? 1 : 0}`}`, { path: dir.path });
    plan.entryEdits.push({ position: position(slot), path: dir.path, delete: true });
    return false;
  }
  const want = dotdot ? dir.parentStart : dir.selfStart;
  const edit: { start?: number; attributes?: number; size?: number; ntFlags?: number } = {};
  if (start !== want) {
    findings.add(FsckCode.DOT, `${label} entry points at cluster ${start}, not ${want}`, { path: dir.path, clusters: [start] });
    edit.start = want;
  }
  if (!(attr & Attr.DIRECTORY)) {
    findings.add(FsckCode.DOT, `${label} entry is not marked as a directory`, { path: dir.path });
    edit.attributes = (attr | Attr.DIRECTORY) & 0x3f;
  }
  if (size !== 0) {
    findings.add(FsckCode.DOT, `${label} entry has size ${size}`, { path: dir.path });
    edit.size = 0;
  }
  // Garbage in the case byte (mtools once wrote random data there; bit 0x20 is a "no 8.3 name" flag fsck.fat reads): clear it.
  if ((caseByte & ~CASE_BYTE_MEANINGFUL) !== 0) {
    findings.add(FsckCode.CASE_BYTE, `${label} entry has garbage 0x${caseByte.toString(16)} in its case byte`, { path: dir.path });
    edit.ntFlags = caseByte & CASE_BYTE_MEANINGFUL;
  }
  if (Object.keys(edit).length > 0) plan.entryEdits.push({ position: position(slot), path: dir.path, ...edit });
  return true;
}

/** A bad or duplicate short name: a finding and a new name (the name was not added to the set). */
function renameEntry(state: DirState, slot: number, firstSlot: number, why: string | null): void {
  const { findings, plan } = state.ctx;
  const at = slot * DIR_ENTRY_SIZE;
  const raw = state.bytes.subarray(at, at + 11);
  let newName: Uint8Array;
  if (why !== null) {
    newName = uniqueName(sanitizeShortName(raw), names);
    findings.add(FsckCode.BAD_NAME, `short name "${shortNameForMessage(raw)}" is invalid (${why})`, { path: pathAt(state, slot, firstSlot) });
  } else {
    newName = uniqueName(raw, names);
    findings.add(FsckCode.DUPLICATE, `another entry of this directory is also named "${shortNameForMessage(raw)}"`, { path: pathAt(state, slot, firstSlot) });
  }
  const lfnSlots: number[] = [];
  for (let s = firstSlot; s < slot; s++) lfnSlots.push(state.position(s));
  plan.entryEdits.push({ position: state.position(slot), path: pathAt(state, slot, firstSlot), rawName: newName, lfnSlots });
  names.addIfAbsent(newName);
}

/** Case-byte bits besides the lower-case flags: cleared on repair. */
function noteCaseByte(state: DirState, slot: number, firstSlot: number): void {
  const caseByte = state.bytes[slot * DIR_ENTRY_SIZE + 12]!;
  state.ctx.findings.add(FsckCode.CASE_BYTE, `case byte is 0x${caseByte.toString(16)}: bits other than the lower-case flags 0x08 and 0x10 are set`, { path: pathAt(state, slot, firstSlot) });
  state.ctx.plan.entryEdits.push({ position: state.position(slot), path: pathAt(state, slot, firstSlot), ntFlags: caseByte & CASE_BYTE_MEANINGFUL });
}

/** Start cluster 0: fine for an empty file, wrong for a directory or a file with a size. */
function noteNoStart(state: DirState, slot: number, firstSlot: number, isDir: boolean, size: number): void {
  const { findings, plan } = state.ctx;
  const path = pathAt(state, slot, firstSlot);
  if (isDir) {
    findings.add(FsckCode.START_CLUSTER, 'directory has no start cluster', { path, clusters: [0] });
    deleteEntry(state, slot, firstSlot, path, 'directory without clusters');
  } else {
    findings.add(FsckCode.CHAIN_SIZE, `file size is ${size} bytes but it has no clusters`, { path });
    plan.entryEdits.push({ position: state.position(slot), path, size: 0 });
  }
}

/** Start cluster out of range, free or bad. */
function noteBadStart(state: DirState, slot: number, firstSlot: number, isDir: boolean, start: number): void {
  const { ctx } = state;
  const maxCluster = ctx.boot.clusterCount + 1;
  const path = pathAt(state, slot, firstSlot);
  const why =
    start < 2 || start > maxCluster ? `start cluster ${start} is outside 2..${maxCluster}` : ctx.next[start] === 0 ? `start cluster ${start} is free` : `start cluster ${start} is marked bad`;
  ctx.findings.add(FsckCode.START_CLUSTER, why, { path, clusters: [start] });
  if (isDir) deleteEntry(state, slot, firstSlot, path, 'directory with an invalid start cluster');
  else ctx.plan.entryEdits.push({ position: state.position(slot), path, start: 0, size: 0 });
}

/** A subdirectory: its chain is walked now, its entries later (pushed on the stack). */
function enterDirectory(state: DirState, slot: number, firstSlot: number, start: number, size: number): void {
  const { ctx, dir } = state;
  const { findings, plan, owners } = ctx;
  const path = pathAt(state, slot, firstSlot);
  const id = owners.add(OwnerKind.DIR, path.slice(path.lastIndexOf('/') + 1), dir.id, state.position(slot), start, size);
  const clusters: number[] = [];
  const r = walkChain(ctx, id, start, Infinity, clusters, state.clusterLimit);
  noteDirChain(ctx, id, path, r, false);
  if (r.problem === 'cross') {
    const otherPath = owners.pathOf(r.other);
    findings.add(FsckCode.CROSSLINK, `directory chain shares cluster ${r.at} with ${otherPath}`, { path: [otherPath, path], clusters: [r.at] });
    if (r.prev === 0) {
      // The entry names clusters another owner holds from their start: an alias (or a cycle back to an ancestor).
      deleteEntry(state, slot, firstSlot, path, 'directory entry aliasing another chain');
      return;
    }
    plan.cuts.push({ owner: id, cutAt: r.prev, free: 0, path, reason: `ended the directory chain before the shared cluster ${r.at}` });
  }
  state.stack.push({ id, path, clusters, isRoot: false, selfStart: start, parentStart: dir.isRoot ? 0 : dir.selfStart });
}

function checkFileChain(ctx: WalkContext, id: number, dirPath: string, bytes: Uint8Array, slot: number, firstSlot: number, start: number, size: number): void {
  const { findings, plan, owners } = ctx;
  const bpc = ctx.boot.bytesPerCluster;
  const needed = Math.ceil(size / bpc);
  const r = walkChain(ctx, id, start, needed, null);
  owners.clusters[id] = r.count;
  // The common case: the chain is exactly as long as the size needs.
  if (r.problem === null && r.count === needed) return;
  const bad = badClusterValue(ctx.boot.fatType);
  const path = joinPath(dirPath, entryDisplayName(bytes, slot, firstSlot));
  let cutAt = -1;
  let reason = '';
  if (r.problem === 'loop') {
    findings.add(FsckCode.LOOP, `chain loops back from cluster ${r.prev} to cluster ${r.at}`, { path, clusters: [r.prev, r.at] });
    cutAt = r.prev;
    reason = `broke the loop at cluster ${r.prev}`;
  } else if (r.problem === 'range') {
    findings.add(FsckCode.CHAIN_RANGE, `chain ${rangeWhy(r, bad)} after cluster ${r.at}`, { path, clusters: [r.at] });
    cutAt = r.at;
    reason = `ended the chain at cluster ${r.at}`;
  } else if (r.problem === 'cross') {
    const otherPath = owners.pathOf(r.other);
    findings.add(FsckCode.CROSSLINK, `cluster ${r.at} belongs to both ${otherPath} and ${path}`, { path: [otherPath, path], clusters: [r.at] });
    if (r.count >= needed) {
      // The shared part lies past the file's size: the file simply ends before it.
      cutAt = needed === 0 ? 0 : r.keepLast;
      reason = `ended the chain before the shared cluster ${r.at}`;
    } else {
      plan.crossLinks.push({ owner: id, other: r.other, prev: r.prev, shared: r.at, ownCount: r.count, needed, isDir: false, path, otherPath });
      return;
    }
  }
  if (r.count > needed) {
    findings.add(FsckCode.CHAIN_SIZE, `chain holds ${r.count} clusters but the size of ${size} bytes needs ${needed}`, { path, clusters: [start] });
    plan.cuts.push({ owner: id, cutAt: needed === 0 ? 0 : r.keepLast, free: r.count - needed, path, reason: `truncated the chain to ${needed} clusters (the size)` });
    return;
  }
  if (cutAt >= 0) plan.cuts.push({ owner: id, cutAt, free: 0, path, reason });
  if (r.count < needed) {
    findings.add(FsckCode.CHAIN_SIZE, `size is ${size} bytes but the chain holds only ${r.count} clusters (${r.count * bpc} bytes)`, { path, clusters: [start] });
    ctx.plan.entryEdits.push({ position: owners.entryPos[id]!, path, size: r.count * bpc });
  }
}

/** `raw` if no entry of the directory has it, else "FSCK0000REN"-style names until one is free. */
function uniqueName(raw: Uint8Array, taken: ShortNameSet): Uint8Array {
  if (!taken.has(raw)) return raw;
  for (let n = 0; n < 10000; n++) {
    const candidate = new TextEncoder().encode(`FSCK${String(n).padStart(4, '0')}REN`);
    if (!taken.has(candidate)) return candidate;
  }
  return raw;
}
