/**
 * Small files on their way onto the host (cp out of an image, every format): the caller
 * reads each file's bytes straight into a batch buffer and queues it; full batches are
 * written by a worker thread (host-write-worker.ts) on the second core while the caller
 * goes on listing and reading. Creating, writing, timing and closing 10,000 files costs
 * a third of a cp -r's CPU, all of it in system calls that need no JavaScript state.
 *
 * - Without a worker (startWorker not called: few files, or it failed to start) a batch
 *   is written on the calling thread when it is posted, the same way.
 * - When the caller has nothing left to read (drain) or waits for a buffer (room), it
 *   writes files of the posted batches too: both threads claim files one by one through
 *   each batch's cursor, so the tail of the work is shared rather than waited for.
 * - Each file is written whole by writeHostFile (host-file-write.ts); a failed one is
 *   reported with its tag and deleted. Nothing here checks names: the caller hands over
 *   host paths it has already made safe.
 * - abort() stops the worker between two files. An exit while the worker writes (a second
 *   Ctrl-C) raises ABORT and waits for the file in hand to be closed, so no file is left
 *   half written; should the worker hang in a system call, that file is deleted.
 * - If the worker dies, the files it had not confirmed are written again here (a file is
 *   rewritten whole, so writing one twice does no harm).
 * - Until the worker says it is ready, posted batches stay here: waiting for room, this
 *   thread writes them and frees them at once. Sent to a worker still starting, they were
 *   freed only by its reply, and this thread sat idle for most of the worker's start-up
 *   (about 100 ms of a 10,000-file copy) with four batches written and none free.
 */
import { unlinkSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { DiskkitError, type ErrorCodeValue } from '../engine/errors.js';
import { builtWorkerUrl } from './built-module-url.js';
import { writeHostFile } from './host-file-write.js';
import { BATCH_HEADER_BYTES, BatchHeader, CONTROL_WORDS, Control, type BatchMessage, type BatchReply, type ReadyReply, type WriteFailure } from './host-write-protocol.js';

/** Bytes of file data one batch holds; a file up to this size can be queued. */
export const BATCH_DATA_BYTES = 1 << 20;
/** Files one batch holds at most (many empty files make small batches anyway). */
const BATCH_FILES = 512;
/** Batches in flight: the worker may lag this many megabytes behind. */
const BATCH_SLOTS = 4;
/** How long an exit waits for the worker to close the file it is writing. */
const EXIT_WAIT_MS = 2000;

interface Slot<T> {
  index: number;
  buffer: SharedArrayBuffer;
  header: Int32Array;
  data: Uint8Array;
  /** The worker has this slot's buffer already. */
  shared: boolean;
  state: 'free' | 'filling' | 'posted';
  /** Posted and sent to the worker (only its reply frees it); a posted batch not sent is this thread's alone. */
  sent: boolean;
  used: number;
  paths: string[];
  offsets: number[];
  times: number[];
  tags: T[];
  /** Files this thread claimed and wrote (or failed): the rest were the worker's. */
  mine: Set<number>;
}

export interface HostWriteCallbacks<T> {
  /** `count` files of `bytes` bytes were written whole. */
  written(count: number, bytes: number): void;
  /** The file queued with `tag` was not written (and is not on the host). */
  failed(tag: T, error: unknown): void;
}

export class HostWriteQueue<T> {
  private readonly slots: Slot<T>[] = [];
  private filling: Slot<T> | null = null;
  /** Posted slots, oldest first. */
  private readonly posted: Slot<T>[] = [];
  private worker: Worker | null = null;
  private workerFailed = false;
  /** The worker has said it can take batches (ReadyReply). */
  private ready = false;
  private control: Int32Array | null = null;
  private wake: (() => void) | null = null;
  private readonly onExit = (): void => this.stopWorkerNow();

  constructor(private readonly callbacks: HostWriteCallbacks<T>) {}

  /**
   * Starts the worker (idempotent; the thread boots while the caller goes on). Call it once
   * the copy is known to be big enough to pay for a thread's start-up (tens of milliseconds,
   * on the other core). Returns false
   * when no worker could be started: the queue then writes on this thread.
   */
  startWorker(): boolean {
    if (this.worker || this.workerFailed) return this.worker !== null;
    try {
      const control = new SharedArrayBuffer(CONTROL_WORDS * 4);
      const worker = new Worker(builtWorkerUrl('./host-write-worker.js', import.meta.url));
      worker.on('message', (reply: BatchReply | ReadyReply) => ('ready' in reply ? this.onReady() : this.onReply(reply)));
      worker.on('error', () => this.onWorkerGone());
      worker.on('exit', () => this.onWorkerGone());
      worker.postMessage({ control });
      this.worker = worker;
      this.control = new Int32Array(control);
      process.on('exit', this.onExit);
      return true;
    } catch {
      this.workerFailed = true;
      return false;
    }
  }

  /** The worker has started and takes batches (until then this thread writes every file). */
  get workerReady(): boolean {
    return this.ready && this.worker !== null;
  }

  /**
   * Where to put the next file's `size` bytes (at most BATCH_DATA_BYTES), or null when
   * every batch is in flight: await room() and ask again. Fill the view, then add().
   */
  space(size: number): Uint8Array | null {
    if (size > BATCH_DATA_BYTES) throw new RangeError(`${size} bytes do not fit a host-write batch`);
    let slot = this.filling;
    if (slot && (slot.used + size > BATCH_DATA_BYTES || slot.paths.length >= BATCH_FILES)) {
      this.post();
      slot = null;
    }
    if (!slot) {
      slot = this.freeSlot();
      if (!slot) return null;
      slot.state = 'filling';
      this.filling = slot;
    }
    return slot.data.subarray(slot.used, slot.used + size);
  }

  /** Queues the file whose `size` bytes were just written into space()'s view. Returns true when a batch was posted. */
  add(path: string, size: number, atimeMs: number, mtimeMs: number, tag: T): boolean {
    const slot = this.filling!;
    slot.paths.push(path);
    slot.times.push(atimeMs, mtimeMs);
    slot.tags.push(tag);
    slot.used += size;
    slot.offsets.push(slot.used);
    if (slot.used >= BATCH_DATA_BYTES || slot.paths.length >= BATCH_FILES) {
      this.post();
      return true;
    }
    return false;
  }

  /** Waits until space() can give a buffer again, writing queued files meanwhile. */
  async room(): Promise<void> {
    let turned = false;
    while (!this.slots.some((s) => s.state === 'free') && this.slots.length >= BATCH_SLOTS) {
      if (this.posted.length === 0) return;
      // A worker still starting says it is ready through the event loop, and a batch is
      // posted from space() with no await after it: one turn here, or that message (and
      // Ctrl-C) waited until the end of the copy and the worker wrote nothing.
      if (this.worker && !this.ready && !turned) {
        turned = true;
        await new Promise(setImmediate);
        continue;
      }
      // The oldest batch with files nobody has claimed: when the worker holds the last files
      // of the oldest one, this thread writes a later batch's rather than wait idle.
      const open = this.posted.find((s) => Atomics.load(s.header, BatchHeader.CURSOR) < s.paths.length);
      if (open) {
        this.claimAndWrite(open);
        if (!open.sent) {
          // Never sent: every file of it was this thread's, and is written now.
          this.finishHere(open);
          continue;
        }
      }
      await this.nextReply();
    }
  }

  /** Posts what is queued and returns once every file is written or reported failed. */
  async drain(): Promise<void> {
    this.post();
    while (this.posted.length > 0) {
      for (const slot of this.posted.slice()) {
        this.claimAndWrite(slot);
        if (!slot.sent) this.finishHere(slot);
      }
      if (this.posted.length > 0) await this.nextReply();
    }
  }

  /** Stops: no further file is started (files already written stay); returns when the worker is idle. */
  async abort(): Promise<void> {
    if (this.control) Atomics.store(this.control, Control.ABORT, 1);
    if (this.filling) this.release(this.filling);
    this.filling = null;
    // Batches the worker never had: no reply will free them.
    for (const slot of this.posted.filter((s) => !s.sent)) this.finishHere(slot);
    while (this.posted.length > 0 && this.worker) await this.nextReply();
    for (const slot of this.posted.splice(0)) this.release(slot);
  }

  /** Ends the worker (after drain or abort). */
  close(): void {
    process.off('exit', this.onExit);
    const worker = this.worker;
    this.worker = null;
    if (worker) {
      worker.removeAllListeners();
      worker.on('error', () => {});
      worker.unref();
      void worker.terminate();
    }
  }

  private freeSlot(): Slot<T> | null {
    const free = this.slots.find((s) => s.state === 'free');
    if (free) return free;
    if (this.slots.length >= BATCH_SLOTS) return null;
    const buffer = new SharedArrayBuffer(BATCH_HEADER_BYTES + BATCH_DATA_BYTES);
    const slot: Slot<T> = {
      index: this.slots.length,
      buffer,
      header: new Int32Array(buffer, 0, BATCH_HEADER_BYTES / 4),
      data: new Uint8Array(buffer, BATCH_HEADER_BYTES),
      shared: false,
      state: 'free',
      sent: false,
      used: 0,
      paths: [],
      offsets: [0],
      times: [],
      tags: [],
      mine: new Set(),
    };
    this.slots.push(slot);
    return slot;
  }

  private post(): void {
    const slot = this.filling;
    if (!slot) return;
    this.filling = null;
    if (slot.paths.length === 0) {
      slot.state = 'free';
      return;
    }
    slot.state = 'posted';
    slot.sent = false;
    this.posted.push(slot);
    if (!this.worker) {
      this.claimAndWrite(slot);
      this.finishHere(slot);
      return;
    }
    if (this.ready) this.send(slot);
  }

  /** Hands the posted batch `slot` to the worker (its reply frees it). */
  private send(slot: Slot<T>): void {
    slot.sent = true;
    const message: BatchMessage = {
      batch: slot.index,
      count: slot.paths.length,
      paths: slot.paths.join('\0'),
      offsets: Int32Array.from(slot.offsets),
      times: Float64Array.from(slot.times),
    };
    if (!slot.shared) {
      message.buffer = slot.buffer;
      slot.shared = true;
    }
    this.worker!.postMessage(message);
  }

  /** The worker can take batches: the posted ones this thread has not written go to it. */
  private onReady(): void {
    if (!this.worker) return;
    this.ready = true;
    for (const slot of this.posted.slice()) {
      if (slot.sent) continue;
      if (Atomics.load(slot.header, BatchHeader.CURSOR) < slot.paths.length) this.send(slot);
      else this.finishHere(slot);
    }
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /** A posted batch that was never sent, every file claimed (and written or failed) by this thread: free it. */
  private finishHere(slot: Slot<T>): void {
    this.finish(slot, { batch: slot.index, written: 0, bytes: 0, failures: [] });
  }

  /** Writes the files of `slot` nobody has claimed yet, on this thread. */
  private claimAndWrite(slot: Slot<T>): void {
    const count = slot.paths.length;
    let written = 0;
    let bytes = 0;
    for (;;) {
      const i = Atomics.add(slot.header, BatchHeader.CURSOR, 1);
      if (i >= count) break;
      slot.mine.add(i);
      if (this.writeOne(slot, i)) {
        written++;
        bytes += slot.offsets[i + 1]! - slot.offsets[i]!;
      }
    }
    if (written > 0) this.callbacks.written(written, bytes);
  }

  private writeOne(slot: Slot<T>, i: number): boolean {
    try {
      writeHostFile(slot.paths[i]!, slot.data.subarray(slot.offsets[i]!, slot.offsets[i + 1]!), slot.times[2 * i]!, slot.times[2 * i + 1]!);
      return true;
    } catch (error) {
      this.callbacks.failed(slot.tags[i]!, error);
      return false;
    }
  }

  private onReply(reply: BatchReply): void {
    const slot = this.slots[reply.batch];
    if (slot && slot.state === 'posted') this.finish(slot, reply);
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /** The worker is done with `slot`: report its part and free the slot. */
  private finish(slot: Slot<T>, reply: BatchReply): void {
    if (reply.written > 0) this.callbacks.written(reply.written, reply.bytes);
    for (const failure of reply.failures) this.callbacks.failed(slot.tags[failure.index]!, errorOf(failure));
    const at = this.posted.indexOf(slot);
    if (at >= 0) this.posted.splice(at, 1);
    this.release(slot);
  }

  private release(slot: Slot<T>): void {
    slot.state = 'free';
    slot.sent = false;
    slot.used = 0;
    slot.paths = [];
    slot.offsets = [0];
    slot.times = [];
    slot.tags = [];
    slot.mine.clear();
    Atomics.store(slot.header, BatchHeader.CURSOR, 0);
  }

  private nextReply(): Promise<void> {
    if (!this.worker) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  /** The worker exited or threw: what it had not confirmed is written here. */
  private onWorkerGone(): void {
    if (!this.worker) return;
    const aborted = this.control !== null && Atomics.load(this.control, Control.ABORT) !== 0;
    this.worker = null;
    this.workerFailed = true;
    process.off('exit', this.onExit);
    for (const slot of this.posted.slice()) {
      if (!aborted) {
        this.claimAndWrite(slot);
        let written = 0;
        let bytes = 0;
        for (let i = 0; i < slot.paths.length; i++) {
          if (slot.mine.has(i)) continue;
          if (this.writeOne(slot, i)) {
            written++;
            bytes += slot.offsets[i + 1]! - slot.offsets[i]!;
          }
        }
        if (written > 0) this.callbacks.written(written, bytes);
      }
      const at = this.posted.indexOf(slot);
      if (at >= 0) this.posted.splice(at, 1);
      this.release(slot);
    }
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /**
   * process 'exit' (a second Ctrl-C): stop the worker between two files and wait for the
   * file in hand to be closed; if it does not close in time, delete it.
   */
  private stopWorkerNow(): void {
    const control = this.control;
    if (!control || !this.worker) return;
    Atomics.store(control, Control.ABORT, 1);
    const deadline = Date.now() + EXIT_WAIT_MS;
    while (Atomics.load(control, Control.BUSY) === 1 && Date.now() < deadline) Atomics.wait(control, Control.BUSY, 1, 50);
    if (Atomics.load(control, Control.BUSY) === 1) {
      const path = this.slots[Atomics.load(control, Control.CURRENT_BATCH)]?.paths[Atomics.load(control, Control.CURRENT_FILE)];
      if (path !== undefined) {
        try {
          unlinkSync(path);
        } catch {
          // not created yet, or gone
        }
      }
    }
  }
}

/** A worker's failure as the error the same write would have thrown here. */
function errorOf(failure: WriteFailure): unknown {
  if (failure.diskkit) return new DiskkitError(failure.code as ErrorCodeValue, failure.message, { context: failure.context });
  return Object.assign(new Error(failure.message), { code: failure.code });
}
