/**
 * Reads a host directory tree on a second thread (host-tree-reader-worker.ts) while the
 * caller, on the main thread, builds an image from it: the walk, the open/fstat/read/
 * close of every small file and the directory listings cost about as much CPU as
 * everything else a bulk import does, so on two cores they overlap instead of adding up.
 *
 * The thread writes records into a few shared slots and the caller takes them in order
 * through a cursor (`next()` blocks on Atomics.wait until a slot is full), so the
 * consumer stays synchronous (the catalog's bottom-up build pulls entries from a
 * generator). Order: breadth first, each directory's names in byte order, every
 * directory listed in the order its DIRECTORY record came; the caller numbers
 * directories as they come and matches each DIR_BEGIN to the next one.
 */
import { createRequire } from 'node:module';
import type { Worker } from 'node:worker_threads';
import { builtWorkerUrl } from './built-module-url.js';
import { HEADER_BYTES, HandOver, RecordKind, SlotState, WAITING_INDEX, type HandOverId, type ReaderBoot, type RecordKindId } from './host-tree-reader-layout.js';
import { readSmallFile, type SmallFileResult } from './host-small-file.js';

export { HandOver, RecordKind, type RecordKindId } from './host-tree-reader-layout.js';

/**
 * Slots the thread fills ahead of the caller. The caller takes them in bursts (a pack
 * written, the catalog grown) while the thread reads at an even pace: with 4 it waited for
 * a free slot often enough that a 10,000-file import into a Cartridge ran slower (median
 * 465 ms against 453 with 8, 451 with 16; 13 alternated runs). 8 is 2 MiB of shared memory.
 */
const SLOT_COUNT = 8;
/** Files up to this size come through the slots; bigger ones are read by the caller (streamed). */
export const HOST_READ_LIMIT = 256 * 1024;
/**
 * A slot holds one file at the limit with its record header and name (a name is at most
 * 255 bytes on the systems this runs on; a longer one makes that file a BIG_FILE). No
 * bigger: every 4 KiB of shared memory costs a page fault the first time the thread
 * writes it (about 16 µs each on the machines measured), and 1 MiB slots cost the thread
 * some 800 more of them in a 10,000-file import than these.
 */
const SLOT_BYTES = HOST_READ_LIMIT + 4096;
/** How long the thread may take to send its first slot before it counts as failed to start. */
const START_TIMEOUT_MS = 60_000;

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const WAITING = WAITING_INDEX(SLOT_COUNT);

export interface HostReadError {
  /** What was being done: 'open', 'read', 'read directory'. */
  action: string;
  /** The errno name ('ENOENT', 'EACCES'...), or '' when there is none. */
  code: string;
  message: string;
}

export class HostTreeReader {
  private readonly worker: Worker;
  private readonly control: Int32Array;
  private readonly slots: Uint8Array;
  private readonly view: DataView;
  private slot = 0;
  /** Read position in the current slot; -1 before the first slot is taken. */
  private at = -1;
  private end = 0;
  private started = false;
  private done = false;
  private closed = false;
  /** The directory being walked. */
  readonly root: string;

  /** The current record (valid until the next call to `next`). */
  kind: RecordKindId = RecordKind.END;
  /** The entry's name bytes, a view into a shared slot (ROOT, DIR_BEGIN, DIR_ERROR: empty). */
  nameBytes: Uint8Array = new Uint8Array(0);
  size = 0;
  mtimeMs = 0;
  /** A FILE's access and birth times (ms; birth 0 where the system has none). */
  atimeMs = 0;
  birthtimeMs = 0;
  /** A FILE's bytes (or an error's text), a view into a shared slot or into `ownBytes`. */
  data: Uint8Array = new Uint8Array(0);
  /** Where this thread reads the files the thread handed over unread (UNREAD records). */
  private ownBytes = new Uint8Array(64 * 1024);
  private readonly ownResult: SmallFileResult = { size: 0, mtimeMs: 0, atimeMs: 0, birthtimeMs: 0, errorText: '' };
  /** Where `placeOwn` puts a file (one object for every file). */
  private readonly ownPlace = { bytes: this.ownBytes, at: 0 };
  private readonly placeOwn = (size: number): { bytes: Uint8Array; at: number } => {
    if (this.ownBytes.length < size) this.ownPlace.bytes = this.ownBytes = new Uint8Array(Math.max(size, 2 * this.ownBytes.length));
    return this.ownPlace;
  };

  private constructor(root: string, handOver: HandOverId, files?: string[]) {
    this.root = root;
    const control = new SharedArrayBuffer(4 * (2 * SLOT_COUNT + 2));
    const slots = new SharedArrayBuffer(SLOT_COUNT * SLOT_BYTES);
    const boot: ReaderBoot = { root, files, control, slots, slotCount: SLOT_COUNT, slotBytes: SLOT_BYTES, readLimit: HOST_READ_LIMIT, handOver };
    // Required here, not imported: opening an image (ls, info) must not load worker_threads.
    // (createRequire too: it loads node:module.)
    const { Worker } = createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
    this.worker = new Worker(builtWorkerUrl('./host-tree-reader-worker.js', import.meta.url), { workerData: boot });
    // It never keeps the process alive, and a thread that dies is caught by the start timeout or its FATAL record.
    this.worker.unref();
    this.worker.on('error', () => {});
    this.control = new Int32Array(control);
    this.slots = new Uint8Array(slots);
    this.view = new DataView(slots);
  }

  /**
   * Starts walking `root` (a directory; followed if it is a link) on the reader thread.
   * A caller may start it before it knows it will use it (cp -r starts it while the image
   * opens): unused, it reads at most what its slots hold (about 2 MiB) and stops at `close`.
   */
  static start(root: string, options: { handOver?: HandOverId } = {}): HostTreeReader {
    return new HostTreeReader(root, options.handOver ?? HandOver.WHEN_WAITING);
  }

  /**
   * Reads the regular files `paths`, in that order, on the reader thread: one record per
   * path (FILE, BIG_FILE, OTHER, SHORT or ERROR; no name), then END. For a copy that has
   * its own walk (cp -r into FAT: the plan's order decides where clusters go), so its
   * reads overlap its writes as a bulk import's do. Each path is opened without following
   * a link, as the walk found it.
   */
  static readFiles(paths: string[], options: { handOver?: HandOverId } = {}): HostTreeReader {
    return new HostTreeReader('', options.handOver ?? HandOver.WHEN_WAITING, paths);
  }

  /** The entry's name as a string (names that are not UTF-8 come as BAD_NAME records, decoded lossily). */
  get name(): string {
    return decoder.decode(this.nameBytes);
  }

  /** An ERROR, DIR_ERROR or FATAL record's error. */
  get error(): HostReadError {
    const [action = 'read', code = '', ...message] = decoder.decode(this.data).split('\n');
    return { action, code, message: message.join('\n') };
  }

  /** Moves to the next record; false once the walk is over (END). A FATAL record is returned like any other. */
  next(): boolean {
    if (this.done) return false;
    while (this.at < 0 || this.at >= this.end) this.takeSlot();
    const p = this.slot * SLOT_BYTES + this.at;
    const view = this.view;
    this.kind = view.getUint8(p) as RecordKindId;
    const nameLength = view.getUint16(p + 1, true);
    this.size = view.getFloat64(p + 3, true);
    this.mtimeMs = view.getFloat64(p + 11, true);
    const dataLength = view.getUint32(p + 19, true);
    this.atimeMs = view.getFloat64(p + 23, true);
    this.birthtimeMs = view.getFloat64(p + 31, true);
    const nameAt = p + HEADER_BYTES;
    this.nameBytes = this.slots.subarray(nameAt, nameAt + nameLength);
    this.data = this.slots.subarray(nameAt + nameLength, nameAt + nameLength + dataLength);
    this.at += HEADER_BYTES + nameLength + dataLength;
    if (this.kind === RecordKind.UNREAD) this.readHere(this.data);
    if (this.kind === RecordKind.END || this.kind === RecordKind.FATAL) {
      this.done = true;
      if (this.kind === RecordKind.END) return false;
    }
    return true;
  }

  /** An UNREAD record: reads the file at `path` here and becomes the record the thread would have sent. */
  private readHere(path: Uint8Array): void {
    const result = this.ownResult;
    const kind = readSmallFile(Buffer.from(path.buffer, path.byteOffset, path.length), HOST_READ_LIMIT, this.placeOwn, result) as RecordKindId;
    this.kind = kind;
    this.size = kind === RecordKind.FILE || kind === RecordKind.BIG_FILE ? result.size : 0;
    this.mtimeMs = kind === RecordKind.FILE || kind === RecordKind.BIG_FILE ? result.mtimeMs : 0;
    this.atimeMs = kind === RecordKind.FILE ? result.atimeMs : 0;
    this.birthtimeMs = kind === RecordKind.FILE ? result.birthtimeMs : 0;
    this.data = kind === RecordKind.FILE ? this.ownBytes.subarray(0, result.size) : kind === RecordKind.ERROR ? encoder.encode(result.errorText.slice(0, 4096)) : new Uint8Array(0);
  }

  /** Gives the slot just read back to the thread and waits for the next full one. */
  private takeSlot(): void {
    const control = this.control;
    if (this.at >= 0) {
      Atomics.store(control, this.slot, SlotState.FREE);
      Atomics.notify(control, this.slot);
      this.slot = (this.slot + 1) % SLOT_COUNT;
    }
    const waitStart = performance.now();
    // While this thread waits, the reader thread hands it files unread (UNREAD records).
    if (Atomics.load(control, this.slot) !== SlotState.FULL) Atomics.store(control, WAITING, 1);
    while (Atomics.load(control, this.slot) !== SlotState.FULL) {
      if (!this.started && performance.now() - waitStart > START_TIMEOUT_MS) {
        this.close();
        throw new Error(`the host reader thread did not start within ${START_TIMEOUT_MS / 1000} s`);
      }
      Atomics.wait(control, this.slot, SlotState.FREE, this.started ? undefined : 1000);
    }
    Atomics.store(control, WAITING, 0);
    this.started = true;
    this.at = 0;
    this.end = Atomics.load(control, SLOT_COUNT + this.slot);
  }

  /** Stops the thread (it ends at its next slot boundary); the reader is unusable after. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.done = true;
    Atomics.store(this.control, 2 * SLOT_COUNT, 1);
    for (let i = 0; i < SLOT_COUNT; i++) {
      Atomics.store(this.control, i, SlotState.FREE);
      Atomics.notify(this.control, i);
    }
    void this.worker.terminate();
  }
}
