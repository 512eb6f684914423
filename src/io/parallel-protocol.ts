/** Messages between the parallel-mode pool (parallel.ts) and its workers (parallel-worker.ts). */
import type { ChunkPiece } from './chunk-plan.js';

export interface WorkerSetup {
  /** File descriptor to read with readSync (fds are shared by all threads of a process); null when the main thread fills slots. */
  fd: number | null;
  baseOffset: number;
  slots: SharedArrayBuffer;
  slotSize: number;
  /** href of the module whose `process` runs per chunk; null to only read. */
  moduleHref: string | null;
  data: unknown;
  imageName: string;
}

/**
 * A worker's workerData: its setup, or only the module to load when the worker was
 * started ahead of its scan (WorkerPool) and gets the setup later in a SetupMessage.
 */
export type WorkerBoot = { deferred: false; moduleHref: string | null; setup: WorkerSetup } | { deferred: true; moduleHref: string | null };

export interface SetupMessage {
  type: 'setup';
  setup: WorkerSetup;
}

export interface ChunkJob {
  index: number;
  slot: number;
  logicalOffset: number;
  length: number;
  pieces: ChunkPiece[];
  /** The main thread already copied the bytes into the slot. */
  filled: boolean;
}

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'setup-error'; message: string }
  | { type: 'done'; index: number; result: unknown; readCalls: number; readMs: number; processMs: number }
  | { type: 'error'; index: number; message: string; code: string | null; context: Record<string, unknown> | null };
