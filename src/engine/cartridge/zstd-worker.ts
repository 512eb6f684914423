/**
 * The worker behind zstd-sync.ts: runs @mongodb-js/zstd (Promise-only) and answers on
 * the port, then wakes the blocked caller through the shared flag.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { compress, decompress } from '@mongodb-js/zstd';

interface Boot {
  port: MessagePort;
  flag: SharedArrayBuffer;
}

interface Job {
  op: 'compress' | 'decompress';
  data: Uint8Array;
  level: number;
}

const { port, flag } = workerData as Boot;
const wake = new Int32Array(flag);

port.on('message', (job: Job) => {
  const input = Buffer.from(job.data.buffer, job.data.byteOffset, job.data.length);
  const work = job.op === 'compress' ? compress(input, job.level) : decompress(input);
  work.then(
    (out) => port.postMessage({ ok: true, out: new Uint8Array(out.buffer, out.byteOffset, out.length) }),
    (error: unknown) => port.postMessage({ ok: false, message: error instanceof Error ? error.message : String(error) }),
  ).finally(() => {
    Atomics.store(wake, 0, 1);
    Atomics.notify(wake, 0);
  });
});
