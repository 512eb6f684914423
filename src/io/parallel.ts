/**
 * `parallel`: a worker_threads pool. Each worker reads its chunk straight into a
 * slot of one SharedArrayBuffer (positional reads on the shared fd, so several reads
 * are in flight) and, when a worker module is given, runs that module's
 * `process(chunk, logicalOffset, data)` on the slot in place. One merger on the main
 * thread takes the results back in logical order. A slot is reused only after its
 * chunk was merged, so the reorder window, and memory, stay bounded by the slot count.
 *
 * Workers are always terminated before the scan settles; a worker failure becomes
 * E_WORKER (or the worker's own diskkit code, e.g. E_SHORT_READ); an abort rejects
 * at once with E_CANCELLED.
 */
import { Worker } from 'node:worker_threads';
import { builtModuleUrl } from './built-module-url.js';
import { threadBudget } from './thread-budget.js';
import { DiskkitError, ErrorCode, type ErrorCodeValue } from '../engine/errors.js';
import { cancelledError, readChunkSync } from './chunk-read.js';
import type { PlannedChunk } from './chunk-plan.js';
import type { ChunkJob, WorkerBoot, WorkerReply, WorkerSetup } from './parallel-protocol.js';
import type { ModeContext } from './scan-context.js';

export { builtModuleUrl };

export const PARALLEL_DEFAULT_CHUNK = 1 << 20;
/** Jobs queued per worker, so a worker never idles during a message round trip. */
const JOBS_PER_WORKER = 2;

export function defaultWorkerCount(): number {
  return threadBudget();
}

export function defaultParallelDepth(workers: number): number {
  return Math.max(4, workers * (JOBS_PER_WORKER + 1));
}

let liveWorkers = 0;
/** Workers of this module still running (for tests: 0 once every scan has settled). */
export function liveWorkerCount(): number {
  return liveWorkers;
}

/** Starts one chunk worker (parallel-worker.ts), counted in liveWorkerCount until it exits. */
function spawnChunkWorker(boot: WorkerBoot): Worker {
  const worker = new Worker(builtModuleUrl('./parallel-worker.js', import.meta.url), { workerData: boot });
  liveWorkers++;
  worker.once('exit', () => liveWorkers--);
  return worker;
}

export interface WorkerWork {
  /** Module run in each worker; see ChunkWorkerModule in parallel-worker.ts. Omit to only read in the workers. */
  workerModule?: URL | string;
  workerData?: unknown;
  /** Workers started ahead (startWorkerPool) for this module; used when their count matches, else terminated. */
  pool?: WorkerPool | undefined;
}

function hrefOf(module: URL | string | undefined): string | null {
  return module ? String(module instanceof URL ? module.href : module) : null;
}

/**
 * Workers started before their scan is set up, each loading the work module at
 * once: a worker takes tens of milliseconds to boot, which then overlaps whatever
 * the caller does first (loading its modules, locating the data). A pool serves one
 * scan; close() ends it when no scan took it.
 */
export class WorkerPool {
  readonly workers: Worker[] = [];
  /** Set when a worker failed or stopped before a scan took the pool. */
  failed: Error | null = null;
  private taken = false;
  /** Whether a scan ran on these workers. */
  served = false;
  private readonly listeners = new Map<Worker, { error: (e: Error) => void; exit: (code: number) => void }>();

  constructor(
    readonly moduleHref: string | null,
    count: number,
  ) {
    const boot: WorkerBoot = { deferred: true, moduleHref };
    for (let i = 0; i < count; i++) {
      const worker = spawnChunkWorker(boot);
      const l = { error: (e: Error) => (this.failed ??= e), exit: (code: number) => (this.failed ??= new Error(`worker stopped (exit code ${code})`)) };
      worker.on('error', l.error);
      worker.on('exit', l.exit);
      // An unused pool must not keep the process alive.
      worker.unref();
      this.listeners.set(worker, l);
      this.workers.push(worker);
    }
  }

  /** The workers, for one scan of `moduleHref` with `count` workers; null (and the pool closed) when they do not fit. */
  take(moduleHref: string | null, count: number): Worker[] | null {
    if (this.taken) return null;
    this.taken = true;
    if (this.failed || moduleHref !== this.moduleHref || count !== this.workers.length) {
      void this.close();
      return null;
    }
    for (const [worker, l] of this.listeners) {
      worker.off('error', l.error);
      worker.off('exit', l.exit);
      worker.ref();
    }
    this.served = true;
    return this.workers;
  }

  /** Ends the workers (all of them, taken or not); resolves when they have stopped. */
  async close(): Promise<void> {
    this.taken = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Starts `count` workers for `workerModule` ahead of the scan that will use them (see WorkerPool). */
export function startWorkerPool(count: number, workerModule: URL | string | null): WorkerPool {
  return new WorkerPool(hrefOf(workerModule ?? undefined), Math.max(1, count));
}

export interface MergedChunk {
  chunk: PlannedChunk;
  /** The chunk's bytes in shared memory, valid only until the merge callback returns. */
  view: Uint8Array;
  /** What the worker module's process() returned (null without a module). */
  result: unknown;
}

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));

function workerError(message: string, code: string | null, context: Record<string, unknown> | null, image: string): DiskkitError {
  if (code && KNOWN_CODES.has(code) && code !== ErrorCode.WORKER) {
    return new DiskkitError(code as ErrorCodeValue, message, { context: { image, ...(context ?? {}) } });
  }
  return new DiskkitError(ErrorCode.WORKER, `worker failed: ${message}`, { context: { image, ...(context ?? {}) } });
}

export async function runParallel(ctx: ModeContext, work: WorkerWork, onMerged: (merged: MergedChunk) => void | Promise<void>): Promise<void> {
  if (ctx.total === 0) {
    await work.pool?.close();
    return;
  }
  const workerCount = Math.max(1, ctx.workers);
  const slotSize = Math.min(ctx.chunkSize, ctx.total);
  const slotCount = Math.max(ctx.depth, workerCount);
  const slots = new SharedArrayBuffer(slotSize * slotCount);
  const fillOnMain = ctx.source.fd === undefined;
  const setup: WorkerSetup = {
    fd: fillOnMain ? null : ctx.source.fd!,
    baseOffset: ctx.source.baseOffset,
    slots,
    slotSize,
    moduleHref: hrefOf(work.workerModule),
    data: work.workerData ?? null,
    imageName: ctx.source.name,
  };
  ctx.stats.queueCapacity = slotCount;
  const started = performance.now();
  const workers: Worker[] = [];
  const pooled = work.pool?.take(setup.moduleHref, workerCount) ?? null;
  ctx.stats.workersStartedAhead = pooled !== null;
  let shuttingDown = false;
  let onAbort: (() => void) | null = null;

  try {
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (error: unknown): void => {
        if (settled) return;
        settled = true;
        reject(error);
      };
      const freeSlots = Array.from({ length: slotCount }, (_, i) => slotCount - 1 - i);
      const outstanding = new Array<number>(workerCount).fill(0);
      const ready = new Array<boolean>(workerCount).fill(false);
      const jobs = new Map<number, { chunk: PlannedChunk; slot: number; issued: number; worker: number }>();
      const done = new Map<number, { chunk: PlannedChunk; slot: number; result: unknown }>();
      let nextMerge = 0;
      let plannerDone = false;
      let merging = false;
      let readyCount = 0;
      // the merger's idle time: from "next chunk in order not ready" to its arrival
      let waitingSince: number | null = performance.now();

      const finishIfDone = (): void => {
        if (!settled && plannerDone && jobs.size === 0 && done.size === 0 && !merging) {
          settled = true;
          resolve();
        }
      };

      const pickWorker = (): number => {
        let best = -1;
        for (let i = 0; i < workerCount; i++) {
          if (ready[i] && outstanding[i]! < JOBS_PER_WORKER && (best < 0 || outstanding[i]! < outstanding[best]!)) best = i;
        }
        return best;
      };

      const dispatch = (): void => {
        while (!settled && !plannerDone && freeSlots.length > 0) {
          const w = pickWorker();
          if (w < 0) break;
          const chunk = ctx.planner.next();
          if (!chunk) {
            plannerDone = true;
            break;
          }
          const slot = freeSlots.pop()!;
          let filled = false;
          if (fillOnMain) {
            const t0 = performance.now();
            let calls: number;
            try {
              calls = readChunkSync(ctx.source, chunk, new Uint8Array(slots, slot * slotSize, chunk.length));
            } catch (error) {
              // A reader that fails mid-file (damaged data) fails the scan, not the process:
              // dispatch runs in worker message handlers, where a throw would be uncaught.
              fail(error);
              return;
            }
            ctx.stats.recordRead(calls, chunk.length, performance.now() - t0);
            filled = true;
          }
          const job: ChunkJob = { index: chunk.index, slot, logicalOffset: chunk.logicalOffset, length: chunk.length, pieces: chunk.pieces, filled };
          jobs.set(chunk.index, { chunk, slot, issued: performance.now(), worker: w });
          outstanding[w]!++;
          workers[w]!.postMessage(job);
        }
        finishIfDone();
      };

      const merge = async (): Promise<void> => {
        if (merging) return;
        merging = true;
        try {
          while (!settled && done.has(nextMerge)) {
            const entry = done.get(nextMerge)!;
            done.delete(nextMerge);
            ctx.stats.sampleQueue(slotCount - freeSlots.length);
            const t0 = performance.now();
            const r = onMerged({ chunk: entry.chunk, view: new Uint8Array(slots, entry.slot * slotSize, entry.chunk.length), result: entry.result });
            if (r) await r;
            ctx.stats.processMs += performance.now() - t0;
            freeSlots.push(entry.slot);
            nextMerge++;
            ctx.progress(entry.chunk.logicalOffset + entry.chunk.length);
            dispatch();
          }
        } catch (error) {
          fail(error);
        } finally {
          merging = false;
        }
        if (waitingSince === null && !done.has(nextMerge)) waitingSince = performance.now();
        finishIfDone();
      };

      onAbort = () => fail(cancelledError());
      if (ctx.signal?.aborted) return fail(cancelledError());
      ctx.signal?.addEventListener('abort', onAbort, { once: true });

      for (let i = 0; i < workerCount; i++) {
        let worker: Worker;
        if (pooled) {
          worker = pooled[i]!;
          worker.postMessage({ type: 'setup', setup });
        } else {
          worker = spawnChunkWorker({ deferred: false, moduleHref: setup.moduleHref, setup });
        }
        worker.once('exit', (code) => {
          if (!shuttingDown) fail(new DiskkitError(ErrorCode.WORKER, `worker stopped unexpectedly (exit code ${code})`, { context: { image: ctx.source.name } }));
        });
        worker.on('error', (error) => fail(new DiskkitError(ErrorCode.WORKER, `worker failed: ${error.message}`, { context: { image: ctx.source.name }, cause: error })));
        worker.on('message', (reply: WorkerReply) => {
          if (settled) return;
          switch (reply.type) {
            case 'ready':
              ready[i] = true;
              if (++readyCount === workerCount) ctx.stats.workerStartMs = performance.now() - started;
              dispatch();
              break;
            case 'setup-error':
              fail(new DiskkitError(ErrorCode.WORKER, `worker could not start: ${reply.message}`, { context: { image: ctx.source.name } }));
              break;
            case 'error':
              fail(workerError(reply.message, reply.code, reply.context, ctx.source.name));
              break;
            case 'done': {
              const job = jobs.get(reply.index)!;
              jobs.delete(reply.index);
              outstanding[i]!--;
              if (!fillOnMain) ctx.stats.recordRead(reply.readCalls, job.chunk.length, reply.readMs);
              ctx.stats.processMs += reply.processMs;
              done.set(reply.index, { chunk: job.chunk, slot: job.slot, result: reply.result });
              if (reply.index === nextMerge && waitingSince !== null) {
                ctx.stats.ioWaitMs += performance.now() - waitingSince;
                waitingSince = null;
              }
              dispatch();
              void merge();
              break;
            }
          }
        });
        workers.push(worker);
      }
    });
  } finally {
    shuttingDown = true;
    if (onAbort) ctx.signal?.removeEventListener('abort', onAbort);
    // Pooled workers too: an abort before the loop above took them leaves them out of `workers`.
    await Promise.all([...new Set([...workers, ...(pooled ?? [])])].map((w) => w.terminate()));
  }
}
