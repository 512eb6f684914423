/**
 * The shared control words of two-thread formatting (format-parallel.ts): which
 * block is claimed next, whose turn it is to write, and an abort flag, in one
 * Int32Array on a SharedArrayBuffer. Blocking waits use timeouts so a thread never
 * waits forever on one that died.
 */
export type FormatControl = Int32Array;

/**
 * Buffers per thread: a thread formats ahead while its older blocks wait for their
 * turn, so one slow block on the other thread does not stall it (with two, the main
 * thread waited ~10% of the time on a 1M-record index).
 */
export const TURN_BUFFERS = 4;
/** Bytes per buffer at first (a block of 1,024 JSONL rows is ~0.6 MB; a larger one grows its buffer). */
export const TURN_BUFFER_BYTES = 3 << 19;

export const enum FormatSlot {
  /** Next block to claim. */
  NEXT = 0,
  /** Next block to write (the blocks before it are written). */
  TURN = 1,
  /** Nonzero: stop (an error or Ctrl-C on one side). */
  ABORT = 2,
  /** Words in the control array. */
  WORDS = 3,
}

/** What writeInTurn and TurnQueue.flush return besides a block number or count. */
export const enum TurnResult {
  /** Stopped: the ABORT word is set. */
  ABORTED = -1,
  /** The patience ran out before the turn came. */
  WAITING = -2,
}

/**
 * Hands a thread its blocks: the next unclaimed one from the shared counter (the
 * faster thread takes more), or with `alternate` (tests, so both threads certainly
 * format) block `thread`, then every second one. -1 when none is left or the run was aborted.
 */
export function blockClaimer(control: FormatControl, blocks: number, alternate: { thread: 0 | 1 } | null): () => number {
  let mine = alternate ? alternate.thread - 2 : 0;
  return () => {
    if (Atomics.load(control, FormatSlot.ABORT) !== 0) return -1;
    const k = alternate ? (mine += 2) : Atomics.add(control, FormatSlot.NEXT, 1);
    return k < blocks ? k : -1;
  };
}

/** Tells both threads to stop: claims fail and waits for a turn return ABORTED. */
export function abortTurns(control: FormatControl): void {
  Atomics.store(control, FormatSlot.ABORT, 1);
  Atomics.notify(control, FormatSlot.TURN);
}

/**
 * Waits until block k is next to write, runs `write`, passes the turn on and returns
 * k; ABORTED if stopped instead, WAITING after `patienceMs` without the turn (the main
 * thread then lets its events through: a worker's exit is only seen that way).
 */
export function writeInTurn(control: FormatControl, k: number, write: () => void, patienceMs = Infinity): number {
  const until = performance.now() + patienceMs;
  for (;;) {
    if (Atomics.load(control, FormatSlot.ABORT) !== 0) return TurnResult.ABORTED;
    const turn = Atomics.load(control, FormatSlot.TURN);
    if (turn === k) break;
    if (patienceMs <= 0 || performance.now() >= until) return TurnResult.WAITING;
    Atomics.wait(control, FormatSlot.TURN, turn, 50);
  }
  try {
    write();
  } catch (error) {
    abortTurns(control);
    throw error;
  }
  Atomics.store(control, FormatSlot.TURN, k + 1);
  Atomics.notify(control, FormatSlot.TURN);
  return k;
}

/**
 * A thread's formatted blocks waiting for their turn (at most `capacity`, in claim
 * order, so increasing): the thread formats its next block instead of waiting while
 * the other thread writes an earlier one. The buffers are reused.
 */
export class TurnQueue<B extends { buf: Uint8Array; pos: number; rewind(): void }> {
  private readonly blocks: number[] = [];
  private readonly held: B[] = [];
  private readonly free: B[];

  readonly capacity: number;

  constructor(
    private readonly control: FormatControl,
    buffers: B[],
    private readonly write: (bytes: Uint8Array, length: number) => void,
  ) {
    this.free = buffers.slice();
    this.capacity = buffers.length;
  }

  /** A free buffer to format the next block into (call only when `full` is false). */
  take(): B {
    return this.free.pop()!;
  }

  get full(): boolean {
    return this.free.length === 0;
  }

  /** Blocks held. */
  get size(): number {
    return this.blocks.length;
  }

  get empty(): boolean {
    return this.blocks.length === 0;
  }

  /** Queues block k, formatted into buffer b. */
  push(k: number, b: B): void {
    this.blocks.push(k);
    this.held.push(b);
  }

  /**
   * Writes the held blocks whose turn it is; with `patienceMs` > 0 first waits that
   * long for the oldest one's turn. ABORTED if stopped, else the number of blocks held.
   */
  flush(patienceMs: number): number {
    while (this.blocks.length > 0) {
      const slot = writeInTurn(this.control, this.blocks[0]!, () => this.write(this.held[0]!.buf, this.held[0]!.pos), patienceMs);
      if (slot === TurnResult.ABORTED) return TurnResult.ABORTED;
      if (slot === TurnResult.WAITING) break;
      this.blocks.shift();
      const b = this.held.shift()!;
      b.rewind();
      this.free.push(b);
      patienceMs = 0;
    }
    return this.blocks.length;
  }
}
