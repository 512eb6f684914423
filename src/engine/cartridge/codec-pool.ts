/**
 * Extent compression and decoding on both cores (a file's extents are independent):
 * one worker thread, started on first use and shared by every writer and reader of the
 * process, plus the main thread itself. A user (extent-writer.ts, file-reader.ts) owns
 * a few slots of shared memory, fills one, and queues its job; the worker takes jobs
 * oldest first, while the main thread, rather than wait for the oldest, takes the
 * newest job still queued (`helpUntilDone`). Results are consumed in file order, so
 * the image is the same whichever thread did a job. The Volume's API is synchronous,
 * so the main thread blocks on Atomics.wait (never longer than a job takes).
 */
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { builtModuleUrl } from '../../io/built-module-url.js';
import { threadBudget } from '../../io/thread-budget.js';
import { type CodecJob, CodecSlot, STATE_BITS, STATE_MASK, SlotState, runCodecJob } from './codec-jobs.js';
import type { CodecMessage, CodecWorkerData } from './codec-worker.js';

export { CodecSlot };

/** How long a wait may last before the worker counts as failed (a hung thread must not hang diskkit). */
const CALL_TIMEOUT_MS = 60_000;

/** Jobs done by the worker since start, and jobs it gave back (failed or refused) that this thread ran again (tests check both paths ran). */
export const codecPoolCounts = { workerJobs: 0, rerunJobs: 0 };

/** The worker's port and doorbell (see codec-worker.ts): a message is posted, then the bell rung. */
interface WorkerLine {
  port: MessagePort;
  bell: Int32Array;
}

let line: WorkerLine | null | undefined;

/** Tells the worker to drop a slot the main thread no longer holds (its memory goes with it). */
const slotsDropped = new FinalizationRegistry<number>((id) => {
  if (line) post(line, { forget: id });
});

function post(to: WorkerLine, message: CodecMessage): void {
  to.port.postMessage(message);
  Atomics.add(to.bell, 0, 1);
  Atomics.notify(to.bell, 0, 1);
}

/** The line to the shared worker, or null on one core (DISKKIT_THREADS=1) or where it cannot start. */
function codecWorker(): WorkerLine | null {
  if (line !== undefined) return line;
  try {
    const { port1, port2 } = new MessageChannel();
    const doorbell = new SharedArrayBuffer(4);
    const worker = new Worker(builtModuleUrl('./codec-worker.js', import.meta.url), { workerData: { port: port2, doorbell } satisfies CodecWorkerData, transferList: [port2] });
    // It sleeps in Atomics.wait between jobs and is stopped when the process exits.
    worker.unref();
    port1.unref();
    // A worker that dies is noticed by the next wait's timeout.
    worker.on('error', () => {});
    line = { port: port1, bell: new Int32Array(doorbell) };
  } catch {
    line = null;
  }
  return line;
}

export function codecPoolAvailable(): boolean {
  return threadBudget() > 1 && codecWorker() !== null;
}

interface Queued {
  slot: CodecSlot;
  job: CodecJob;
  /** The job's number shifted into place (see SlotState). */
  tag: number;
}

/** Job numbers (24 bits, so the tagged state stays a positive Int32). */
let lastJob = 0;

/** One user's queue of jobs (a writer's or a reader's), in the order their results are needed. */
export class CodecQueue {
  private readonly queued: Queued[] = [];

  /** Queues `job` on `slot` (its input filled). */
  submit(slot: CodecSlot, job: CodecJob): void {
    lastJob = (lastJob + 1) & 0xffffff;
    const tag = lastJob << STATE_BITS;
    slot.ints[5] = 0;
    Atomics.store(slot.ints, 0, tag | SlotState.QUEUED);
    const to = codecWorker();
    this.queued.push({ slot, job, tag });
    if (!to) return;
    if (slot.sentToWorker) post(to, { slot: slot.id, job, id: lastJob });
    else {
      post(to, { slot: slot.id, memory: slot.memory, job, id: lastJob });
      slot.sentToWorker = true;
      slotsDropped.register(slot, slot.id);
    }
  }

  get length(): number {
    return this.queued.length;
  }

  /**
   * Waits until the oldest queued job is done, doing queued jobs on this thread
   * meanwhile (newest first), and returns its slot (dequeued). A job that failed on the
   * worker is run again here, so the caller gets the codec's own error. When the worker
   * holds the oldest job and nothing else is queued, `more` may queue another job (true
   * when it did), which this thread then does instead of waiting: a worker still
   * starting, compiling its codec or descheduled on a busy machine does not hold this
   * thread up. With `keepQueued`, this thread first lets `more` queue jobs until more
   * than that many are left unclaimed, then takes the newest: a user whose own thread
   * also reads and writes (the writer) keeps the worker fed rather than starve it.
   */
  takeOldest(more?: () => boolean, keepQueued = 0): CodecSlot {
    const head = this.queued[0]!;
    for (;;) {
      const word = Atomics.load(head.slot.ints, 0);
      const state = word & STATE_MASK;
      if (state === SlotState.DONE) break;
      if (state === SlotState.FAILED) {
        codecPoolCounts.rerunJobs++;
        runCodecJob(head.job, head.slot);
        break;
      }
      if (keepQueued > 0 && this.unclaimed() <= keepQueued && more?.()) continue;
      if (this.runOneHere()) continue;
      if (state === SlotState.CLAIMED && more?.()) continue;
      if (state === SlotState.CLAIMED && Atomics.wait(head.slot.ints, 0, word, CALL_TIMEOUT_MS) === 'timed-out') {
        throw new Error(`codec worker did not finish a job within ${CALL_TIMEOUT_MS / 1000} s`);
      }
    }
    if (head.slot.ints[5] === 1) codecPoolCounts.workerJobs++;
    this.queued.shift();
    return head.slot;
  }

  /** Jobs queued and not yet claimed by either thread. */
  private unclaimed(): number {
    let n = 0;
    for (const { slot, tag } of this.queued) if (Atomics.load(slot.ints, 0) === (tag | SlotState.QUEUED)) n++;
    return n;
  }

  /** Runs the newest job still queued on this thread; false when none is. */
  private runOneHere(): boolean {
    for (let i = this.queued.length - 1; i >= 0; i--) {
      const { slot, job, tag } = this.queued[i]!;
      if (Atomics.compareExchange(slot.ints, 0, tag | SlotState.QUEUED, tag | SlotState.CLAIMED) !== (tag | SlotState.QUEUED)) continue;
      try {
        runCodecJob(job, slot);
        Atomics.store(slot.ints, 0, tag | SlotState.DONE);
      } catch {
        Atomics.store(slot.ints, 0, tag | SlotState.FAILED);
      }
      return true;
    }
    return false;
  }

  /** Forgets every queued job, once no thread is still writing into its slot. */
  drain(): CodecSlot[] {
    const slots: CodecSlot[] = [];
    for (const { slot, tag } of this.queued) {
      if (Atomics.compareExchange(slot.ints, 0, tag | SlotState.QUEUED, SlotState.FREE) !== (tag | SlotState.QUEUED)) {
        for (let word = Atomics.load(slot.ints, 0); (word & STATE_MASK) === SlotState.CLAIMED; word = Atomics.load(slot.ints, 0)) {
          if (Atomics.wait(slot.ints, 0, word, CALL_TIMEOUT_MS) === 'timed-out') throw new Error(`codec worker did not finish a job within ${CALL_TIMEOUT_MS / 1000} s`);
        }
      }
      slots.push(slot);
    }
    this.queued.length = 0;
    return slots;
  }
}
