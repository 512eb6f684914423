/**
 * Where the MFT's per-chunk parse module is, when `auto` uses workers, and starting
 * them ahead of a scan. Kept apart from scan-mft.ts so a command can start the workers before it
 * loads the rest of the engine: their boot then overlaps that loading.
 */
import { builtModuleUrl, defaultWorkerCount, startWorkerPool, type WorkerPool } from '../../io/parallel.js';

export const PARSE_MODULE = builtModuleUrl('./parse-chunk.js', import.meta.url);

/** From this many MFT bytes up, `auto` parses in workers when there are two cores: below, their start-up costs more than they save. */
export const AUTO_PARALLEL_MFT_BYTES = 128 << 20;

/** Parse workers for a coming `parallel` scan (pass the pool to scanMft). */
export function startParseWorkers(workers?: number): WorkerPool {
  return startWorkerPool(workers ?? defaultWorkerCount(), PARSE_MODULE);
}
