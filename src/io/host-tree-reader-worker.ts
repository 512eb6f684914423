/**
 * The thread behind host-tree-reader.ts: walks a host directory tree breadth first
 * (each directory's names in byte order, symbolic links not followed) and reads every
 * regular file up to the read limit, writing one record per entry into the shared
 * slots (the record layout is in host-tree-reader.ts). Only node:fs is loaded, so the
 * thread is ready in a few milliseconds while the main thread still opens the image.
 *
 * Every way out of the walk publishes an END or FATAL record (try/finally), so the
 * main thread, which blocks on the slots, is never left waiting for a thread that died.
 */
import { lstatSync, readdirSync, statSync, type Dirent } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { workerData } from 'node:worker_threads';
import { HEADER_BYTES, HandOver, RecordKind, SlotState, WAITING_INDEX, type ReaderBoot } from './host-tree-reader-layout.js';
import { errorText, readSmallFile, type SmallFileResult } from './host-small-file.js';

const boot = workerData as ReaderBoot;
const control = new Int32Array(boot.control);
const slotBytes = boot.slotBytes;
const slots = new Uint8Array(boot.slots);
const view = new DataView(boot.slots);
const slotCount = boot.slotCount;
/** Set by the main thread while it waits for a slot. */
const WAITING = WAITING_INDEX(slotCount);

let slot = 0;
/** Write position inside the current slot (relative to its start). */
let at = 0;
let cancelled = false;

function base(): number {
  return slot * slotBytes;
}

/** Hands the current slot to the main thread and waits for the next one to be free. */
function publish(): void {
  Atomics.store(control, slotCount + slot, at);
  Atomics.store(control, slot, SlotState.FULL);
  Atomics.notify(control, slot);
  slot = (slot + 1) % slotCount;
  at = 0;
  unreadRun = 0;
  while (Atomics.load(control, slot) === SlotState.FULL) {
    if (Atomics.load(control, 2 * slotCount) !== 0) {
      cancelled = true;
      return;
    }
    Atomics.wait(control, slot, SlotState.FULL, 1000);
  }
  if (Atomics.load(control, 2 * slotCount) !== 0) cancelled = true;
}

/** Room for a record of `dataBytes` (and a name): a new slot when this one is too full. */
function reserve(nameBytes: number, dataBytes: number): number {
  const need = HEADER_BYTES + nameBytes + dataBytes;
  if (at + need > slotBytes) publish();
  return need;
}

function header(kind: number, name: Uint8Array, size: number, mtimeMs: number, dataLength: number): number {
  const p = base() + at;
  view.setUint8(p, kind);
  view.setUint16(p + 1, name.length, true);
  view.setFloat64(p + 3, size, true);
  view.setFloat64(p + 11, mtimeMs, true);
  view.setUint32(p + 19, dataLength, true);
  // A FILE's access and birth times (see placeInSlot); 0 in every other record.
  view.setFloat64(p + 23, kind === RecordKind.FILE ? fileResult.atimeMs : 0, true);
  view.setFloat64(p + 31, kind === RecordKind.FILE ? fileResult.birthtimeMs : 0, true);
  slots.set(name, p + HEADER_BYTES);
  return p + HEADER_BYTES + name.length;
}

const encoder = new TextEncoder();
const fileResult: SmallFileResult = { size: 0, mtimeMs: 0, atimeMs: 0, birthtimeMs: 0, errorText: '' };
const EMPTY = new Uint8Array(0);
/** The name of a listed file's record (readFiles: the caller knows its files). */
const EMPTY_NAME = Buffer.alloc(0);

/** A record with no data, or a text one (an error's errno and message). */
function emit(kind: number, name: Uint8Array, size = 0, mtimeMs = 0, text?: string): void {
  const data = text === undefined ? EMPTY : encoder.encode(text.slice(0, 4096));
  const need = reserve(name.length, data.length);
  const p = header(kind, name, size, mtimeMs, data.length);
  slots.set(data, p);
  at += need;
}

const byBytes = (a: Dirent<Buffer>, b: Dirent<Buffer>): number => Buffer.compare(a.name, b.name);


/** The slot record a FILE is being read into (set by placeInSlot). */
let fileNeed = 0;
let fileName: Uint8Array = EMPTY;
const inSlot = { bytes: slots, at: 0 };
const placeInSlot = (size: number, mtimeMs: number): { bytes: Uint8Array; at: number } | null => {
  if (HEADER_BYTES + fileName.length + size > slotBytes) return null;
  fileNeed = reserve(fileName.length, size);
  inSlot.at = header(RecordKind.FILE, fileName, size, mtimeMs, size);
  return inSlot;
};

/** UNREAD records since the last slot went out (see `file`). */
let unreadRun = 0;
/** Files handed over unread at a time: enough to keep the main thread busy for about a millisecond. */
const UNREAD_BATCH = 32;

/** One regular file: read into the slot, or handed to the main thread unread when it is waiting for work. */
function file(path: Buffer, name: Buffer): void {
  if (boot.handOver === HandOver.ALWAYS || (boot.handOver === HandOver.WHEN_WAITING && Atomics.load(control, WAITING) !== 0)) {
    // The main thread has taken everything and waits: give it files to read itself
    // (their paths) rather than reading them here, so both threads read.
    const need = reserve(name.length, path.length);
    const p = header(RecordKind.UNREAD, name, 0, 0, path.length);
    slots.set(path, p);
    at += need;
    if (++unreadRun >= UNREAD_BATCH) publish();
    return;
  }
  fileName = name;
  const kind = readSmallFile(path, boot.readLimit, placeInSlot, fileResult);
  // Not advanced past a FILE record until it is whole: a failed or short read leaves none.
  if (kind === RecordKind.FILE) at += fileNeed;
  else if (kind === RecordKind.ERROR) emit(RecordKind.ERROR, name, 0, 0, fileResult.errorText);
  else if (kind === RecordKind.BIG_FILE) emit(RecordKind.BIG_FILE, name, fileResult.size, fileResult.mtimeMs);
  else emit(kind, name);
}

/** Directories still to list: their host path, and the chain of (dev, ino) above them to catch loops through bind mounts. */
interface Queued {
  path: Buffer;
  id: string;
  parent: number;
}

/** Where `childPath` builds paths: a file's path is used before the next one is built, so one buffer serves them all. */
let pathBytes = Buffer.allocUnsafe(4096);

/** DIR/NAME, in `pathBytes` (valid until the next call). */
function childPath(dir: Buffer, name: Buffer): Buffer {
  const length = dir.length + 1 + name.length;
  if (pathBytes.length < length) pathBytes = Buffer.allocUnsafe(2 * length);
  dir.copy(pathBytes, 0);
  pathBytes[dir.length] = 0x2f; // '/'
  name.copy(pathBytes, dir.length + 1);
  return pathBytes.subarray(0, length);
}

function walk(): void {
  const rootPath = Buffer.from(boot.root);
  // The operand itself is followed when it is a link (as cp -H): the user named it.
  const rootStat = statSync(rootPath);
  const queue: Queued[] = [{ path: rootPath, id: `${rootStat.dev}:${rootStat.ino}`, parent: -1 }];
  emit(RecordKind.ROOT, EMPTY, 0, rootStat.mtimeMs);
  for (let q = 0; q < queue.length && !cancelled; q++) {
    const dir = queue[q]!;
    let entries: Dirent<Buffer>[];
    try {
      entries = readdirSync(dir.path, { withFileTypes: true, encoding: 'buffer' });
    } catch (error) {
      emit(RecordKind.DIR_ERROR, EMPTY, 0, 0, errorText(error, 'read directory'));
      continue;
    }
    emit(RecordKind.DIR_BEGIN, EMPTY);
    entries.sort(byBytes);
    for (const entry of entries) {
      if (cancelled) return;
      const name = entry.name;
      if (!isUtf8(name)) {
        emit(RecordKind.BAD_NAME, name);
        continue;
      }
      if (entry.isFile()) {
        file(childPath(dir.path, name), name);
        continue;
      }
      // A directory's path is kept in the queue: its own copy.
      const path = Buffer.from(childPath(dir.path, name));
      if (entry.isDirectory()) {
        let st;
        try {
          st = lstatSync(path);
        } catch (error) {
          emit(RecordKind.ERROR, name, 0, 0, errorText(error, 'read'));
          continue;
        }
        const id = `${st.dev}:${st.ino}`;
        let loop = false;
        for (let up = q; up >= 0 && !loop; up = queue[up]!.parent) loop = queue[up]!.id === id;
        if (loop) {
          emit(RecordKind.LOOP, name);
          continue;
        }
        queue.push({ path, id, parent: q });
        emit(RecordKind.DIRECTORY, name, 0, st.mtimeMs);
      } else if (entry.isSymbolicLink()) emit(RecordKind.SYMLINK, name);
      else emit(RecordKind.OTHER, name);
    }
  }
}

/** The files the caller listed, read in its order (cp -r into FAT: its plan's files). */
function readList(files: string[]): void {
  for (const path of files) {
    if (cancelled) return;
    file(Buffer.from(path), EMPTY_NAME);
  }
}

let fatal: string | null = null;
try {
  if (boot.files) readList(boot.files);
  else walk();
} catch (error) {
  fatal = errorText(error, 'read');
} finally {
  if (!cancelled) {
    if (fatal !== null) emit(RecordKind.FATAL, EMPTY, 0, 0, fatal);
    else emit(RecordKind.END, EMPTY);
    Atomics.store(control, slotCount + slot, at);
    Atomics.store(control, slot, SlotState.FULL);
    Atomics.notify(control, slot);
  }
}
