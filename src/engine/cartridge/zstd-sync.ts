/**
 * Synchronous zstd for the Volume interface, whose readers (FileDataSource.read) and
 * writers are synchronous: @mongodb-js/zstd only offers Promises, so one worker thread
 * runs it while the caller blocks on Atomics.wait. A round trip costs tens of
 * microseconds, small beside the ~1 ms an extent of up to 1 MiB takes to (de)compress.
 * The worker is started on first use and unref'd, so it never keeps a process alive.
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { builtModuleUrl } from '../../io/parallel.js';

interface Reply {
  ok: boolean;
  out?: Uint8Array;
  message?: string;
}

/** How long a call may block before it is reported as a failed worker (a hung thread must not hang diskkit). */
const CALL_TIMEOUT_MS = 60_000;

let channel: { worker: Worker; port: MessagePort; wake: Int32Array } | null = null;

function start(): { worker: Worker; port: MessagePort; wake: Int32Array } {
  if (channel) return channel;
  const { port1, port2 } = new MessageChannel();
  const flag = new SharedArrayBuffer(4);
  const worker = new Worker(builtModuleUrl('./zstd-worker.js', import.meta.url), { workerData: { port: port2, flag }, transferList: [port2] });
  worker.unref();
  port1.unref();
  channel = { worker, port: port1, wake: new Int32Array(flag) };
  return channel;
}

function call(op: 'compress' | 'decompress', data: Uint8Array, level: number): Uint8Array {
  const { port, wake } = start();
  Atomics.store(wake, 0, 0);
  port.postMessage({ op, data, level });
  if (Atomics.wait(wake, 0, 0, CALL_TIMEOUT_MS) === 'timed-out') throw new Error(`zstd worker did not answer within ${CALL_TIMEOUT_MS / 1000} s`);
  const reply = receiveMessageOnPort(port)?.message as Reply | undefined;
  if (!reply) throw new Error('zstd worker woke without an answer');
  if (!reply.ok) throw new Error(reply.message ?? 'zstd failed');
  return reply.out!;
}

export function zstdCompressSync(data: Uint8Array, level: number): Uint8Array {
  return call('compress', data, level);
}

/** Decompresses one frame; the caller bounds its output first (extent-codec.ts zstdOutputBound). */
export function zstdDecompressSync(data: Uint8Array): Uint8Array {
  return call('decompress', data, 0);
}
