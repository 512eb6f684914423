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
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync, statSync, type Dirent } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { workerData } from 'node:worker_threads';
import { HEADER_BYTES, RecordKind, SlotState, type ReaderBoot } from './host-tree-reader-layout.js';

const boot = workerData as ReaderBoot;
const control = new Int32Array(boot.control);
const slotBytes = boot.slotBytes;
const slots = new Uint8Array(boot.slots);
const view = new DataView(boot.slots);
const slotCount = boot.slotCount;

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
  slots.set(name, p + HEADER_BYTES);
  return p + HEADER_BYTES + name.length;
}

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** A record with no data, or a text one (an error's errno and message). */
function emit(kind: number, name: Uint8Array, size = 0, mtimeMs = 0, text?: string): void {
  const data = text === undefined ? EMPTY : encoder.encode(text.slice(0, 4096));
  const need = reserve(name.length, data.length);
  const p = header(kind, name, size, mtimeMs, data.length);
  slots.set(data, p);
  at += need;
}

function errorText(error: unknown, action: string): string {
  const e = error as NodeJS.ErrnoException;
  return `${action}\n${e?.code ?? ''}\n${e?.message ?? String(error)}`;
}

const byBytes = (a: Dirent<Buffer>, b: Dirent<Buffer>): number => Buffer.compare(a.name, b.name);
const NO_FOLLOW = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/** Reads one regular file into the slot (or says it is too big for one): open, fstat, read, close. */
function file(path: Buffer, name: Buffer): void {
  let fd: number;
  try {
    // O_NOFOLLOW and O_NONBLOCK: an entry swapped for a link or a FIFO since it was
    // listed fails or shows in fstat, instead of being followed or blocking forever.
    fd = openSync(path, NO_FOLLOW);
  } catch (error) {
    emit(RecordKind.ERROR, name, 0, 0, errorText(error, 'open'));
    return;
  }
  try {
    let st;
    try {
      st = fstatSync(fd);
    } catch (error) {
      emit(RecordKind.ERROR, name, 0, 0, errorText(error, 'read'));
      return;
    }
    if (!st.isFile()) {
      emit(RecordKind.OTHER, name);
      return;
    }
    const size = st.size;
    if (size > boot.readLimit || HEADER_BYTES + name.length + size > slotBytes) {
      emit(RecordKind.BIG_FILE, name, size, st.mtimeMs);
      return;
    }
    const need = reserve(name.length, size);
    const p = header(RecordKind.FILE, name, size, st.mtimeMs, size);
    let done = 0;
    try {
      while (done < size) {
        const n = readSync(fd, slots, p + done, size - done, done);
        if (n === 0) break;
        done += n;
      }
    } catch (error) {
      emit(RecordKind.ERROR, name, 0, 0, errorText(error, 'read'));
      return;
    }
    // Not advanced past the record until it is whole: a failed or short read leaves no FILE record.
    if (done < size) {
      emit(RecordKind.SHORT, name);
      return;
    }
    at += need;
  } finally {
    closeSync(fd);
  }
}

/** Directories still to list: their host path, and the chain of (dev, ino) above them to catch loops through bind mounts. */
interface Queued {
  path: Buffer;
  id: string;
  parent: number;
}

function walk(): void {
  const rootPath = Buffer.from(boot.root);
  // The operand itself is followed when it is a link (as cp -H): the user named it.
  const rootStat = statSync(rootPath);
  const queue: Queued[] = [{ path: rootPath, id: `${rootStat.dev}:${rootStat.ino}`, parent: -1 }];
  emit(RecordKind.ROOT, EMPTY, 0, rootStat.mtimeMs);
  const slash = Buffer.from('/');
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
      const path = Buffer.concat([dir.path, slash, name]);
      if (entry.isFile()) file(path, name);
      else if (entry.isDirectory()) {
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

let fatal: string | null = null;
try {
  walk();
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
