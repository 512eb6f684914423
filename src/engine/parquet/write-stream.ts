/**
 * Writing a Parquet file from Arrow tables made one batch at a time, through
 * parquet-wasm (Apache Arrow's Rust Parquet writer compiled to WebAssembly). The
 * caller's `nextTable` is asked for the next batch only when the writer wants more
 * rows, so memory holds about one batch and one row group, whatever the row count.
 *
 * With a second core (and a file descriptor to write to), the encoding runs in a
 * worker (encode-worker.ts) while this thread builds the next batch: the two halves
 * of the work cost about the same.
 */
import type * as arrow from './arrow.js';
import { DiskkitError, ErrorCode } from '../errors.js';
import { tableToIpcInto } from './ipc-buffer.js';
import { startEncodeWorker, type EncodeThread } from './encode-thread.js';
import type { EncodeSettings } from './properties.js';
import type { EncodeMessage, EncodeReply } from './encode-worker.js';

export { ROW_GROUP_ROWS } from './row-groups.js';
export { encodesInWorker, startEncodeWorker, type EncodeThread } from './encode-thread.js';

/** Encodes in this thread, handing the file's bytes to `sink` in order. */
export async function writeParquetStream(
  /**
   * The next batch of rows, or null at the end. Must give at least one table (an empty one
   * carries the schema). A table's buffers may be reused by the next call: each is encoded first.
   */
  nextTable: () => arrow.Table | null,
  sink: (bytes: Uint8Array) => void | Promise<void>,
  settings: EncodeSettings = {},
): Promise<void> {
  // Loaded here, not with this module: with a second core only the worker needs the WebAssembly.
  const [pq, { recordBatchesOf, writerProperties }] = await Promise.all([import('parquet-wasm'), import('./properties.js')]);
  let queued: import('parquet-wasm').RecordBatch[] = [];
  // One buffer for every batch's IPC bytes: WebAssembly copies them in before the next batch is made.
  let ipcBuffer: Uint8Array = new Uint8Array(0);
  const input = new ReadableStream<import('parquet-wasm').RecordBatch>({
    pull(controller) {
      while (queued.length === 0) {
        const table = nextTable();
        if (table === null) break;
        const ipc = tableToIpcInto(table, ipcBuffer);
        ipcBuffer = new Uint8Array(ipc.buffer);
        queued = recordBatchesOf(ipc);
      }
      const next = queued.shift();
      if (next) controller.enqueue(next);
      else controller.close();
    },
  });
  const output = await pq.transformParquetStream(input, writerProperties(settings));
  for await (const piece of output as unknown as AsyncIterable<Uint8Array>) await sink(piece);
}

/**
 * Writes the file to `fd` (at its current offset): in a worker when there is a
 * second core, else in this thread. `name` names the destination in errors.
 * `encoder`: a worker from startEncodeWorker, started ahead (null: encode here;
 * undefined: start one now if there is a second core). It is terminated at the end.
 */
export async function writeParquetToFd(nextTable: () => arrow.Table | null, fd: number, name: string, settings: EncodeSettings = {}, encoder?: EncodeThread | null): Promise<void> {
  const thread = encoder === undefined ? startEncodeWorker() : encoder;
  if (thread === null) {
    const { writeSync } = await import('node:fs');
    return writeParquetStream(nextTable, (piece) => {
      for (let at = 0; at < piece.length; ) at += writeSync(fd, piece, at, piece.length - at);
    }, settings);
  }
  const worker = thread.worker;
  try {
    worker.postMessage({ start: { fd, ...settings } } satisfies EncodeMessage);
    await new Promise<void>((resolve, reject) => {
      // At most two batches handed over and not yet taken: the worker never waits, memory stays bounded.
      // Their IPC bytes are in slots of shared memory (encode-worker.ts says why), three at most, used in turn.
      const slots: Uint8Array[] = [];
      const free: number[] = [];
      const inFlight: number[] = [];
      const shared = (bytes: number): Uint8Array => new Uint8Array(new SharedArrayBuffer(bytes));
      let ended = false;
      const fail = (message: string): void => reject(new DiskkitError(ErrorCode.IO, `cannot write Parquet: ${message}`, { context: { image: name } }));
      const feed = (): void => {
        try {
          while (!ended && inFlight.length < 2) {
            const table = nextTable();
            if (table === null) {
              ended = true;
              worker.postMessage({ end: true });
              break;
            }
            const slot = free.pop() ?? slots.push(new Uint8Array(0)) - 1;
            const ipc = tableToIpcInto(table, slots[slot]!, shared);
            const renewed = ipc.buffer !== slots[slot]!.buffer;
            if (renewed) slots[slot] = new Uint8Array(ipc.buffer);
            inFlight.push(slot);
            worker.postMessage({ ipc: { slot, length: ipc.length, ...(renewed ? { buffer: ipc.buffer as SharedArrayBuffer } : {}) } } satisfies EncodeMessage);
          }
        } catch (error) {
          reject(error);
        }
      };
      worker.on('message', (reply: EncodeReply) => {
        if ('taken' in reply) {
          free.push(inFlight.shift()!);
          feed();
        } else if ('done' in reply) resolve();
        else fail(reply.error);
      });
      worker.on('error', (error) => fail(error.message));
      worker.on('exit', (code) => fail(`encoder thread exited (code ${code})`));
      if (thread.failure !== null) fail(thread.failure);
      else feed();
    });
  } finally {
    await worker.terminate();
  }
}
