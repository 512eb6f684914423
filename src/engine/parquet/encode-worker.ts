/**
 * The Parquet encoder on a thread of its own (write-stream.ts, writeParquetInWorker):
 * receives each batch as Arrow IPC bytes, runs parquet-wasm's writer over them and
 * writes the file's bytes to the given descriptor, while the main thread builds the
 * next batch. Acknowledges each batch once the writer has taken it, so the main
 * thread stays at most a batch or two ahead. The batches' bytes come in a few
 * SharedArrayBuffers used in turn (a message names the slot and the length, and
 * carries a buffer only when a slot gets a new one): buffers transferred back and
 * forth instead registered as new external memory at every hand-over, and V8 answered
 * with a full collection per 64k-row batch on both threads.
 */
import { parentPort } from 'node:worker_threads';
import { writeSync } from 'node:fs';
import * as pq from 'parquet-wasm';
import { recordBatchesOf, writerProperties, type EncodeSettings } from './properties.js';

export interface EncodeWorkerData extends EncodeSettings {
  fd: number;
}

/** `start` comes first (the worker may be started before the file exists), then the batches, then `end`. */
/** An IPC stream of `length` bytes in slot `slot`, whose buffer is `buffer` if given (else the slot's last). */
export interface IpcSlotMessage {
  slot: number;
  length: number;
  buffer?: SharedArrayBuffer;
}
export type EncodeMessage = { start: EncodeWorkerData } | { ipc: IpcSlotMessage } | { end: true };
/** `taken`: the oldest batch handed over has been read out of its slot, which may be written again. */
export type EncodeReply = { taken: true } | { done: true } | { error: string };

const port = parentPort!;
const waiting: ((message: EncodeMessage) => void)[] = [];
const queued: EncodeMessage[] = [];
port.on('message', (message: EncodeMessage) => {
  const take = waiting.shift();
  if (take) take(message);
  else queued.push(message);
});
const next = (): Promise<EncodeMessage> => (queued.length > 0 ? Promise.resolve(queued.shift()!) : new Promise((resolve) => waiting.push(resolve)));
const first = await next();
if (!('start' in first)) throw new Error('the encode worker needs its start message first');
const { fd, ...settings } = first.start;

const slots: SharedArrayBuffer[] = [];
let batches: pq.RecordBatch[] = [];
const input = new ReadableStream<pq.RecordBatch>({
  async pull(controller) {
    while (batches.length === 0) {
      const message = await next();
      if ('end' in message) {
        controller.close();
        return;
      }
      if (!('ipc' in message)) continue;
      const { slot, length, buffer } = message.ipc;
      if (buffer) slots[slot] = buffer;
      batches = recordBatchesOf(new Uint8Array(slots[slot]!, 0, length));
      port.postMessage({ taken: true } satisfies EncodeReply);
    }
    controller.enqueue(batches.shift()!);
  },
});

try {
  const output = await pq.transformParquetStream(input, writerProperties(settings));
  for await (const piece of output as unknown as AsyncIterable<Uint8Array>) {
    for (let at = 0; at < piece.length; ) at += writeSync(fd, piece, at, piece.length - at);
  }
  port.postMessage({ done: true } satisfies EncodeReply);
} catch (error) {
  port.postMessage({ error: (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error)) } satisfies EncodeReply);
}
