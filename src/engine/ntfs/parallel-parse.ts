/**
 * The parallel read mode for the MFT: this thread reads record-aligned chunks into
 * slots of one SharedArrayBuffer; worker threads (parse-worker.ts) apply fixups in
 * place there and parse straight into the shared record table, so no record is
 * copied. Each worker sends back only its chunk's name and stream lists
 * (transferred, not cloned), which are appended in chunk order so the result is
 * identical to streaming. Extension-record merging and path resolution stay on this
 * thread (mft-index.ts).
 *
 * This is diskkit's own worker pool for MFT parsing; it is kept behind
 * `parseInWorkers` so it can move onto src/io's generic parallel API unchanged.
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DiskkitError, ErrorCode } from '../errors.js';
import { recordRangeExtents, type MftLayout } from './mft-source.js';
import type { NameList, NameListTransfer, RecordTable } from './record-table.js';

export interface ParallelParseOptions {
  table: RecordTable;
  names: NameList;
  streams: NameList;
  bitmap: Uint8Array | undefined;
  chunkSize: number;
  workers: number;
  signal?: AbortSignal | undefined;
  onProgress?: ((bytesDone: number, bytesTotal: number) => void) | undefined;
}

/** Message to a worker: parse `count` records at `slot`, the first being record `first`. */
export interface ParseJob {
  id: number;
  slot: number;
  first: number;
  count: number;
}

export interface ParseJobResult {
  id: number;
  names: NameListTransfer;
  streams: NameListTransfer;
  error?: string;
}

/** The compiled worker; under a TypeScript test runner the source has no .js sibling, so use the build. */
function workerUrl(): URL {
  const beside = new URL('./parse-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  return new URL('../../../dist/engine/ntfs/parse-worker.js', import.meta.url);
}

export async function parseInWorkers(layout: MftLayout, ranges: { first: number; count: number }[], options: ParallelParseOptions): Promise<number> {
  const { recordSize } = layout;
  const recordsPerChunk = options.chunkSize / recordSize;
  const jobs: { first: number; count: number }[] = [];
  for (const r of ranges) {
    for (let f = r.first; f < r.first + r.count; f += recordsPerChunk) jobs.push({ first: f, count: Math.min(recordsPerChunk, r.first + r.count - f) });
  }
  const total = jobs.reduce((s, j) => s + j.count * recordSize, 0);
  if (jobs.length === 0) return 0;
  const workerCount = Math.min(options.workers, jobs.length);
  // Two slots per worker: one being parsed, one being filled.
  const slotCount = workerCount * 2;
  const slots = new SharedArrayBuffer(slotCount * options.chunkSize);
  const slotBytes = new Uint8Array(slots);
  const workers: Worker[] = [];
  const url = workerUrl();
  for (let w = 0; w < workerCount; w++) {
    workers.push(new Worker(url, {
      workerData: {
        table: options.table.buffer,
        recordCount: options.table.count,
        slots,
        chunkSize: options.chunkSize,
        recordSize,
        clusterCount: layout.clusterCount,
        bitmap: options.bitmap,
      },
    }));
  }
  const results = new Map<number, ParseJobResult>();
  let appended = 0;
  let bytesDone = 0;
  const freeSlots = Array.from({ length: slotCount }, (_, i) => i);
  const idle: number[] = [];
  const queue: ParseJob[] = [];
  let nextJob = 0;
  let failure: Error | null = null;

  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (error: Error): void => {
        failure = error;
        reject(error);
      };
      /** The slot each job in flight occupies. */
      const busySlot = new Map<number, number>();
      const fill = (): void => {
        // Read as many chunks as there are free slots, then dispatch to idle workers.
        while (!failure && freeSlots.length > 0 && nextJob < jobs.length) {
          if (options.signal?.aborted) return fail(new DiskkitError(ErrorCode.CANCELLED, 'cancelled'));
          const job = jobs[nextJob]!;
          const slot = freeSlots.pop()!;
          let at = slot * options.chunkSize;
          for (const e of recordRangeExtents(layout, job.first, job.count)) {
            layout.source.readAt(slotBytes, at, e.length, e.position);
            at += e.length;
          }
          busySlot.set(nextJob, slot);
          queue.push({ id: nextJob++, slot, first: job.first, count: job.count });
        }
        while (idle.length > 0 && queue.length > 0) workers[idle.pop()!]!.postMessage(queue.shift());
      };
      workers.forEach((worker, w) => {
        worker.on('message', (result: ParseJobResult) => {
          if (result.error) return fail(new DiskkitError(ErrorCode.WORKER, `parse worker failed: ${result.error}`));
          results.set(result.id, result);
          freeSlots.push(busySlot.get(result.id)!);
          busySlot.delete(result.id);
          while (results.has(appended)) {
            const r = results.get(appended)!;
            results.delete(appended);
            options.names.append(r.names);
            options.streams.append(r.streams);
            bytesDone += jobs[appended]!.count * recordSize;
            options.onProgress?.(bytesDone, total);
            appended++;
          }
          if (appended === jobs.length) return resolve();
          idle.push(w);
          try {
            fill();
          } catch (error) {
            fail(error as Error);
          }
        });
        worker.on('error', (error) => fail(new DiskkitError(ErrorCode.WORKER, `parse worker failed: ${error.message}`, { cause: error })));
      });
      for (let w = 0; w < workerCount; w++) idle.push(w);
      try {
        fill();
      } catch (error) {
        fail(error as Error);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return total;
}
