/**
 * Synchronous zstd for the Volume interface, whose readers (FileDataSource.read) and
 * writers are synchronous. First choice: @toondepauw/node-zstd, a native binding with
 * synchronous calls (prebuilt per platform, from the registry). A small file's extent
 * then costs its (de)compression only: through the worker below, each call also paid a
 * thread round trip, measured at 3–5 times the work itself for 4 KiB files, which made
 * `cp -r` of many small zstd files slower than `sqlite3 -Ax`.
 *
 * Fallback, where that binding does not load: @mongodb-js/zstd, which only offers
 * Promises, in one worker thread while the caller blocks on Atomics.wait. The worker is
 * started on first use and unref'd, so it never keeps a process alive.
 */
import { createRequire } from 'node:module';
import type { MessagePort, Worker } from 'node:worker_threads';
import { builtModuleUrl } from '../../io/built-module-url.js';

interface NativeZstd {
  Encoder: new (level: number) => { encodeSync(data: Buffer): Buffer };
  Decoder: new () => { decodeSync(data: Buffer): Buffer };
}

// Made on first use: createRequire loads node:module, which opening an image never needs.
let nativeRequire: NodeJS.Require | undefined;
const requireNative = (id: string): unknown => (nativeRequire ??= createRequire(import.meta.url))(id);
/** Loaded on first use (start-up must not pay for a codec it does not need); null when it cannot load. */
let native: { encoders: Map<number, { encodeSync(data: Buffer): Buffer }>; decoder: { decodeSync(data: Buffer): Buffer }; Encoder: NativeZstd['Encoder'] } | null | undefined;

function nativeZstd(): typeof native {
  if (native !== undefined) return native;
  try {
    const binding = requireNative('@toondepauw/node-zstd') as NativeZstd;
    native = { encoders: new Map(), decoder: new binding.Decoder(), Encoder: binding.Encoder };
  } catch {
    native = null;
  }
  return native;
}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length);
}

interface Reply {
  ok: boolean;
  out?: Uint8Array;
  message?: string;
}

/** How long a call may block before it is reported as a failed worker (a hung thread must not hang diskkit). */
const CALL_TIMEOUT_MS = 60_000;

let channel: { worker: Worker; port: MessagePort; wake: Int32Array } | null = null;

/** worker_threads, required on the fallback's first use: opening an image must not load it. */
function workerThreads(): typeof import('node:worker_threads') {
  return requireNative('node:worker_threads') as typeof import('node:worker_threads');
}

function start(): { worker: Worker; port: MessagePort; wake: Int32Array } {
  if (channel) return channel;
  const { MessageChannel, Worker } = workerThreads();
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
  const reply = workerThreads().receiveMessageOnPort(port)?.message as Reply | undefined;
  if (!reply) throw new Error('zstd worker woke without an answer');
  if (!reply.ok) throw new Error(reply.message ?? 'zstd failed');
  return reply.out!;
}

export function zstdCompressSync(data: Uint8Array, level: number): Uint8Array {
  const z = nativeZstd();
  if (!z) return call('compress', data, level);
  let encoder = z.encoders.get(level);
  if (!encoder) z.encoders.set(level, (encoder = new z.Encoder(level)));
  return encoder.encodeSync(asBuffer(data));
}

/** Decompresses one frame; the caller bounds its output first (extent-codec.ts zstdOutputBound). */
export function zstdDecompressSync(data: Uint8Array): Uint8Array {
  const z = nativeZstd();
  if (!z) return call('decompress', data, 0);
  return z.decoder.decodeSync(asBuffer(data));
}

/** Which implementation the synchronous calls use (for tests and `--stats`). */
export function zstdSyncImplementation(): 'native' | 'worker' {
  return nativeZstd() ? 'native' : 'worker';
}
