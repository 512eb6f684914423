/**
 * Starting the Parquet encode worker (encode-worker.ts) without loading Arrow or
 * parquet-wasm here: `mft index --format parquet --out` starts it before the index
 * is built, so the thread's start and the WebAssembly compilation overlap the
 * parsing instead of following it.
 */
import { Worker } from 'node:worker_threads';
import { builtModuleUrl } from '../../io/built-module-url.js';
import { threadBudget } from '../../io/thread-budget.js';

const ENCODE_WORKER = builtModuleUrl('./encode-worker.js', import.meta.url);

/** Whether writeParquetToFd encodes on a second thread: when this process may keep two busy. */
export function encodesInWorker(): boolean {
  return threadBudget() >= 2;
}

export interface EncodeThread {
  worker: Worker;
  /** Set if the thread failed or exited before it was given work (no listener was there yet). */
  failure: string | null;
}

/** A worker waiting for its file and settings (write-stream.ts sends them), or null with one thread. */
export function startEncodeWorker(): EncodeThread | null {
  if (!encodesInWorker()) return null;
  const thread: EncodeThread = { worker: new Worker(ENCODE_WORKER), failure: null };
  thread.worker.on('error', (error) => (thread.failure ??= error.message));
  thread.worker.on('exit', (code) => (thread.failure ??= `encoder thread exited (code ${code})`));
  return thread;
}
