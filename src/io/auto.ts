/**
 * `auto`: picks a read mode from what is known before the scan starts — the source
 * kind, the bytes to read, the core count, and whether per-chunk work can run in
 * workers — and says why, so `-v` can print the choice. The thresholds come from
 * bench/io.bench.js on a 2-core machine (see BENCHMARKS.md).
 */
import type { BlockSource } from './block-source.js';

export type ConcreteMode = 'streaming' | 'prefetch' | 'pipelined' | 'parallel' | 'mmap';

export interface AutoChoice {
  mode: ConcreteMode;
  reason: string;
}

/** Below this, start-up costs of the other modes (threads, mappings) outweigh any gain. */
export const AUTO_SMALL_SCAN = 8 << 20;

export function chooseMode(source: BlockSource, totalBytes: number, cores: number, hasWorkerWork: boolean): AutoChoice {
  if (totalBytes < AUTO_SMALL_SCAN) return { mode: 'streaming', reason: `small scan (${totalBytes} bytes): streaming has no start-up cost` };
  if (hasWorkerWork && cores >= 2) return { mode: 'parallel', reason: `per-chunk work can run in workers and ${cores} cores are available` };
  if (source.kind === 'reader') return { mode: 'streaming', reason: "file read through the format's reader on the main thread: nothing to overlap" };
  if (source.kind === 'memory') return { mode: 'streaming', reason: 'in-memory source: reads are copies, nothing to overlap' };
  if (source.kind === 'block-device') return { mode: 'prefetch', reason: 'block device: read-ahead overlaps device latency with processing' };
  if (hasWorkerWork) return { mode: 'streaming', reason: 'one core: workers would only add hand-offs' };
  return { mode: 'streaming', reason: 'regular file with main-thread processing: synchronous reads from the page cache are cheapest' };
}
