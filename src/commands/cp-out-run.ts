/**
 * Running a copy-out plan (cp-out.ts lists it): directories made in plan order, files up
 * to one streaming chunk read whole into a host-write batch (host-write-queue.ts writes
 * them, on a second thread when there is one), larger files through the read modes into
 * a file written in place. Errors are per entry: reported through `fail`, the copy goes on.
 *
 * The per-entry work is a synchronous loop (SmallFileSteps.run) that returns to the async
 * runPlan only when it must wait (every batch in flight, a batch posted: a moment to let
 * Ctrl-C through) or meets a large file. A 10,000-file copy runs that loop 10,000 times:
 * inside the async function, with its awaits and its large-file path, the loop made V8's
 * optimizing compiler spend more on runPlan than the optimized code saved (about 90M
 * instructions of 1.7G under cachegrind with runPlan kept out of that compiler).
 */
import { fstatSync, futimesSync, lstatSync, mkdirSync, utimesSync } from 'node:fs';
import { basename, sep } from 'node:path';
import type { EntryInfo, FileDataSource, Volume } from '../engine/volume.js';
import { DiskkitError, ErrorCode, fromSystemError } from '../engine/errors.js';
import { fileScanOf } from '../engine/extent-reader.js';
import { FileDataBlockSource } from '../io/file-data-source.js';
import { SparseOutput } from '../io/sparse-output.js';
import type { GlobalOptions } from './context.js';
import type { ScanOptions, ScanResult } from '../io/scan.js';
import { printScanStats } from './io-options.js';
import { startProgress } from './progress.js';
import { checkAborted } from '../io/chunk-read.js';
import type { HostWriteQueue } from '../io/host-write-queue.js';
import { hostTimeSeconds } from '../io/host-file-write.js';

export interface PlanItem {
  kind: 'file' | 'dir';
  entry: EntryInfo;
  host: string;
  /**
   * `host` is the destination operand itself, a symbolic link to a device, FIFO or socket
   * (`cp IMG:/f /dev/stdout`): opened through the link, as cp(1) opens it. Every other
   * host path is opened with O_NOFOLLOW, so a link planted in the destination is refused.
   */
  follow?: boolean;
}

export interface PlanIo {
  read: ScanOptions;
  stats: boolean;
  signal?: AbortSignal;
}

/** What runPlan adds to. */
export interface RunOutcome {
  files: number;
  directories: number;
  bytes: number;
}

/** What the host-write queue hands back with a failed file. */
export interface QueuedFile {
  /** The file's path in the image (not its entry: a queued file keeps nothing else alive while it waits). */
  path: string;
  at: number;
  fail: (path: string, error: unknown, at: number) => void;
}

/** Below this much data a progress bar only flickers. */
const PROGRESS_MIN_BYTES = 16 * 1024 * 1024;
/** Files read whole into a host-write batch: up to one streaming chunk (STREAMING_DEFAULT_CHUNK). */
const SMALL_FILE_BYTES = 256 << 10;

/** Small files go through the host-write queue under the default read only: no --mode other than streaming, no --stats. */
export function smallFileLimit(io: { read: ScanOptions; stats: boolean }): number {
  const mode = io.read.mode ?? 'streaming';
  return mode === 'streaming' && !io.stats ? Math.min(io.read.chunkSize ?? SMALL_FILE_BYTES, SMALL_FILE_BYTES) : -1;
}

/** Atomic output and the read modes, loaded on the first file too big for a host-write batch (about 15 modules). */
let atomicOutput: Promise<typeof import('../io/atomic-output.js')> | null = null;
let scanning: Promise<typeof import('../io/scan.js')> | null = null;

// Why SmallFileSteps.run returned: plain numbers, not an object's properties (a property
// first read after V8 optimized the loop, such as the first ROOM, threw that code away).
/** The plan is done. */
const STEP_END = 0;
/** Every batch is in flight: await queue.room(), then run again (the pending file is retried). */
const STEP_ROOM = 1;
/** A batch was posted: yield once (Ctrl-C), then run again. */
const STEP_POSTED = 2;
/** The pending file is too big for a batch: copy it through the read modes, then run again. */
const STEP_BIG = 3;

/** The synchronous part of runPlan: directories and small files, entry after entry. */
class SmallFileSteps {
  /** The entry run() stopped at (ROOM, BIG), and its plan position. */
  pending: PlanItem | null = null;
  pendingAt = -1;
  at = -1;
  doneBefore = 0;
  readonly dirTimes: PlanItem[] = [];
  private readonly badDirs = new Set<string>();
  private readonly smallLimit: number;
  // A format without raw extents (Cartridge) copies each file out of its own decoded
  // buffers: into the batch's shared memory V8 copies a byte at a time unless source and
  // destination agree modulo 8, which a file at any offset of a pack seldom does (140M
  // instructions of a 10,000-file copy). Read into this plain buffer at the batch view's
  // alignment instead: that copy is a memmove, and the one into the batch goes by words.
  private readonly throughScratch: boolean;
  private scratch: Uint8Array | null = null;

  constructor(
    private readonly volume: Volume,
    private readonly io: PlanIo,
    private readonly queue: HostWriteQueue<QueuedFile>,
    private readonly outcome: RunOutcome,
    private readonly fail: (path: string, error: unknown, at: number) => void,
    private readonly bar: { update(done: number): void } | null,
  ) {
    // Files up to one streaming chunk are read whole, straight into a host-write batch:
    // no scan machinery per file (cp -r of 10,000 small files spent more time in that than
    // in reading and writing), and the worker writes them while the next ones are read.
    // The bytes are read before anything is queued, so a read error leaves nothing behind.
    this.smallLimit = smallFileLimit(io);
    this.throughScratch = !volume.capabilities.rawExtents;
  }

  /** Entries from `items` (after the pending one) until the plan ends or an entry needs runPlan. */
  run(items: Iterator<PlanItem>): number {
    for (;;) {
      let item = this.pending;
      let at = this.pendingAt;
      this.pending = null;
      if (item === null) {
        const next = items.next();
        if (next.done) return STEP_END;
        item = next.value;
        at = ++this.at;
        if (this.badDirs.size > 0 && this.underBadDir(item.host)) continue;
        if (item.kind === 'dir') {
          this.makeDir(item, at);
          continue;
        }
      }
      const step = this.smallFile(item, at);
      if (step !== STEP_END) return step;
    }
  }

  /** The file `item`: queued or failed (END, POSTED), or the reason runPlan must take over (it is then pending). */
  private smallFile(item: PlanItem, at: number): number {
    let step: number;
    try {
      step = this.queueSmallFile(item, at);
    } catch (error) {
      if (error instanceof DiskkitError && error.code === ErrorCode.CANCELLED) throw error;
      this.fail(item.entry.path, error, at);
      step = STEP_END;
    }
    if (step === STEP_BIG || step === STEP_ROOM) {
      this.pending = item;
      this.pendingAt = at;
    } else this.entryDone(item);
    return step;
  }

  private queueSmallFile(item: PlanItem, at: number): number {
    checkAborted(this.io.signal);
    if (this.smallLimit < 0 || item.follow) return STEP_BIG;
    const reader: FileDataSource = this.volume.openFile(item.entry);
    const size = reader.size;
    if (size > this.smallLimit) return STEP_BIG;
    const view = this.queue.space(size);
    if (view === null) return STEP_ROOM;
    if (this.throughScratch && size > 0) {
      const align = view.byteOffset & 7;
      this.scratch ??= new Uint8Array(SMALL_FILE_BYTES + 8);
      const aligned = this.scratch.subarray(align, align + size);
      reader.read(aligned, size, 0);
      view.set(aligned);
    } else reader.read(view, size, 0);
    const { atime, mtime } = item.entry;
    return this.queue.add(item.host, size, atime?.getTime() ?? Number.NaN, mtime?.getTime() ?? Number.NaN, { path: item.entry.path, at, fail: this.fail }) ? STEP_POSTED : STEP_END;
  }

  /** Progress once an entry is copied or failed. */
  entryDone(item: PlanItem): void {
    this.doneBefore += item.entry.size;
    this.bar?.update(this.doneBefore);
  }

  private underBadDir(host: string): boolean {
    for (const d of this.badDirs) if (host.startsWith(d + sep)) return true;
    return false;
  }

  /** Directories are made here, in plan order, before any file inside them is queued. */
  private makeDir(item: PlanItem, at: number): void {
    try {
      makeDirectory(item.host);
      this.outcome.directories++;
      this.dirTimes.push(item);
    } catch (error) {
      this.badDirs.add(item.host);
      this.fail(item.entry.path, error, at);
    }
  }
}

export async function runPlan(
  volume: Volume,
  plan: Iterable<PlanItem>,
  io: PlanIo,
  queue: HostWriteQueue<QueuedFile>,
  outcome: RunOutcome,
  fail: (path: string, error: unknown, at: number) => void,
  g: GlobalOptions,
): Promise<void> {
  // A bar is wanted only with a whole plan (copyOut), whose total it shows.
  const total = Array.isArray(plan) ? (plan as PlanItem[]).reduce((n, p) => n + (p.kind === 'file' ? p.entry.size : 0), 0) : 0;
  const bar = total >= PROGRESS_MIN_BYTES ? await startProgress(g, 'copying', total) : null;
  const steps = new SmallFileSteps(volume, io, queue, outcome, fail, bar);
  const items = plan[Symbol.iterator]();
  try {
    for (;;) {
      const step = steps.run(items);
      if (step === STEP_END) break;
      // A posted batch is a moment to let Ctrl-C (SIGINT) through.
      if (step === STEP_POSTED) await new Promise(setImmediate);
      else if (step === STEP_ROOM) await queue.room();
      else {
        const item = steps.pending!;
        steps.pending = null;
        try {
          await copyLargeFile(volume, item, io, bar ? (done) => bar.update(steps.doneBefore + done) : undefined, outcome);
        } catch (error) {
          if (error instanceof DiskkitError && error.code === ErrorCode.CANCELLED) throw error;
          fail(item.entry.path, error, steps.pendingAt);
        } finally {
          steps.entryDone(item);
        }
      }
    }
    await queue.drain();
    // Directory times last (writing their contents changed them), deepest first.
    for (const item of steps.dirTimes.reverse()) {
      if (item.entry.mtime) {
        try {
          utimesSync(item.host, hostTimeSeconds((item.entry.atime ?? item.entry.mtime).getTime()), hostTimeSeconds(item.entry.mtime.getTime()));
        } catch {
          // the directory itself was copied; a time we cannot set is not worth failing for
        }
      }
    }
  } catch (error) {
    // Ctrl-C: the worker starts no further file; the files written so far stay, as cp(1) leaves them.
    await queue.abort();
    throw error;
  } finally {
    bar?.stop();
  }
}

/** One file through the read modes, written in place (O_NOFOLLOW unless `item.follow`) and deleted again if the copy fails or is interrupted. */
async function copyLargeFile(volume: Volume, item: PlanItem, io: PlanIo, onProgress: ((done: number) => void) | undefined, outcome: RunOutcome): Promise<void> {
  // A reader that writes a whole file itself (a Cartridge's, decoding on both cores) does,
  // under the default read only (a --mode or --stats asks for the read modes).
  const reader = !volume.capabilities.rawExtents && smallFileLimit(io) >= 0 ? volume.openFile(item.entry) : null;
  const { writeAtomically } = await (atomicOutput ??= import('../io/atomic-output.js'));
  const result: ScanResult | null = await writeAtomically(
    item.host,
    async (out) => {
      let scanned: ScanResult | null = null;
      const regular = fstatSync(out.fd).isFile();
      if (!reader?.writeWholeTo || !regular || !reader.writeWholeTo(out.fd, item.host, { onProgress, signal: io.signal })) {
        const { source, extents } = reader ? FileDataBlockSource.ofFile(volume.source.name, reader) : fileScanOf(volume, item.entry);
        const { scanExtents } = await (scanning ??= import('../io/scan.js'));
        // Zeros (an NTFS file's holes) stay holes in a regular file; a device gets every byte.
        const sparse = regular ? new SparseOutput(out.fd, item.host) : null;
        scanned = await scanExtents(source, extents, (chunk) => (sparse ? sparse.write(chunk) : out.write(chunk)), { ...io.read, signal: io.signal, onProgress, caches: io.stats ? () => volume.cacheStats?.() ?? {} : undefined });
        sparse?.finish();
      }
      if (item.entry.mtime && regular) futimesSync(out.fd, hostTimeSeconds((item.entry.atime ?? item.entry.mtime).getTime()), hostTimeSeconds(item.entry.mtime.getTime()));
      return scanned;
    },
    { signal: io.signal, durable: false, inPlace: true, followLink: item.follow === true },
  );
  if (io.stats && result) printScanStats(result);
  outcome.files++;
  outcome.bytes += result ? result.bytes : reader!.size;
}

function makeDirectory(path: string): void {
  try {
    mkdirSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw fromSystemError(error, path, 'create directory');
    const st = lstatSync(path);
    if (!st.isDirectory()) {
      throw new DiskkitError(ErrorCode.EXISTS, `'${basename(path)}' exists on the host and is not a directory`, { context: { path } });
    }
  }
}
