/**
 * The Parquet encoder on a thread of its own (write-stream.ts, writeParquetInWorker):
 * receives each batch as Arrow IPC bytes, runs parquet-wasm's writer over them and
 * writes the file's bytes to the given descriptor, while the main thread builds the
 * next batch. Acknowledges each batch once the writer has taken it, so the main
 * thread stays at most a batch or two ahead.
 */
import { parentPort } from 'node:worker_threads';
import { writeSync } from 'node:fs';
import * as pq from 'parquet-wasm';
import { recordBatchesOf, writerProperties, type EncodeSettings } from './properties.js';

export interface EncodeWorkerData extends EncodeSettings {
  fd: number;
}

/** `start` comes first (the worker may be started before the file exists), then the batches, then `end`. */
export type EncodeMessage = { start: EncodeWorkerData } | { ipc: Uint8Array } | { end: true };
/** `taken` gives the batch's buffer back (transferred) for the next batch. */
export type EncodeReply = { taken: true; buffer: ArrayBuffer } | { done: true } | { error: string };

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
      batches = recordBatchesOf(message.ipc);
      const buffer = message.ipc.buffer as ArrayBuffer;
      port.postMessage({ taken: true, buffer } satisfies EncodeReply, [buffer]);
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
