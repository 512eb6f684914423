/**
 * The worker behind codec-pool.ts: for each job message, claims its slot (unless the
 * main thread took the job first), runs it (codec-jobs.ts) and wakes whoever waits on
 * the slot's state.
 */
import { parentPort } from 'node:worker_threads';
import { type CodecJob, CodecSlot, STATE_BITS, type SlotMemory, SlotState, runCodecJob } from './codec-jobs.js';

export interface CodecMessage {
  memory: SlotMemory;
  job: CodecJob;
  /** The job's number (see SlotState). */
  id: number;
}

/** Slot views by their shared control buffer (each user keeps its slots for a whole file). */
const slots = new WeakMap<SharedArrayBuffer, CodecSlot>();

parentPort!.on('message', ({ memory, job, id }: CodecMessage) => {
  let slot = slots.get(memory.control);
  if (!slot) slots.set(memory.control, (slot = new CodecSlot(memory)));
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
});
