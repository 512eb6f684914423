/**
 * Where the MFT's per-chunk parse module is, and starting its workers ahead of a
 * scan. Kept apart from scan-mft.ts so a command can start the workers before it
 * loads the rest of the engine: their boot then overlaps that loading.
 */
import { builtModuleUrl, defaultWorkerCount, startWorkerPool, type WorkerPool } from '../../io/parallel.js';

export const PARSE_MODULE = builtModuleUrl('./parse-chunk.js', import.meta.url);

/** Parse workers for a coming `parallel` scan (pass the pool to scanMft). */
export function startParseWorkers(workers?: number): WorkerPool {
  return startWorkerPool(workers ?? defaultWorkerCount(), PARSE_MODULE);
}
