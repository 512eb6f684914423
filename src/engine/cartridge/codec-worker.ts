/**
 * The worker behind codec-pool.ts. It never returns to its event loop: it takes the
 * messages queued on its port synchronously (receiveMessageOnPort), and when none is
 * left sleeps in Atomics.wait on the doorbell the main thread rings after each post.
 * For each job message it claims the job's slot (unless the main thread took the job
 * first), runs it (codec-jobs.ts) and wakes whoever waits on the slot's state.
 *
 * Why not a 'message' listener: every job then cost an event-loop wake-up of this
 * thread, and each message carried its slot's three SharedArrayBuffers, which arrived
 * as new objects (a fresh CodecSlot and views per job) and made both threads' garbage
 * collectors run for their external memory: about a third of a CPU second per GiB
 * copied out of an uncompressed cartridge, more than the checksums cost. A slot's
 * memory now comes once, with its first job; the main thread says when to forget it.
 */
import { type MessagePort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { type CodecJob, CodecSlot, STATE_BITS, type SlotMemory, SlotState, runCodecJob } from './codec-jobs.js';

export type CodecMessage =
  | {
      /** The slot's number (codec-jobs.ts CodecSlot.id). */
      slot: number;
      /** The slot's memory, with its first job only. */
      memory?: SlotMemory;
      job: CodecJob;
      /** The job's number (see SlotState). */
      id: number;
    }
  /** The main thread dropped the slot: so does this thread. */
  | { forget: number };

export interface CodecWorkerData {
  port: MessagePort;
  /** Int32 0: rung (incremented) by the main thread after each message. */
  doorbell: SharedArrayBuffer;
}

const { port, doorbell } = workerData as CodecWorkerData;
const bell = new Int32Array(doorbell);
const slots = new Map<number, CodecSlot>();

function handle(message: CodecMessage): void {
  if ('forget' in message) {
    slots.delete(message.forget);
    return;
  }
  const { job, id } = message;
  let slot = slots.get(message.slot);
  if (!slot) {
    // A slot's first job brings its memory; without it (cannot happen) the main thread's wait times out.
    if (!message.memory) return;
    slots.set(message.slot, (slot = new CodecSlot(message.memory)));
  }
  const tag = id << STATE_BITS;
  if (Atomics.compareExchange(slot.ints, 0, tag | SlotState.QUEUED, tag | SlotState.CLAIMED) !== (tag | SlotState.QUEUED)) return;
  let state: number = SlotState.DONE;
  try {
    runCodecJob(job, slot);
    slot.ints[5] = 1;
  } catch {
    // The main thread runs the job again itself and reports the codec's own error.
    state = SlotState.FAILED;
  }
  Atomics.store(slot.ints, 0, tag | state);
  Atomics.notify(slot.ints, 0);
}

for (;;) {
  // Read before the port is drained: a message posted after the drain rings past it, and the wait returns at once.
  const rung = Atomics.load(bell, 0);
  for (let received = receiveMessageOnPort(port); received; received = receiveMessageOnPort(port)) handle(received.message as CodecMessage);
  Atomics.wait(bell, 0, rung);
}
