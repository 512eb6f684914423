/**
 * `auto`: picks a read mode from what is measured before the scan starts — the source
 * kind, the bytes to read, the cores and how busy they are, and how fast the
 * per-chunk work runs compared with reading (does parsing or copying dominate?) — and
 * says why, so `-v` can print the choice. How busy the cores are is measured, not taken
 * from the 1-minute load average: that average lags by a minute and counts this tool's
 * own runs just before (a benchmark's previous round, a script's previous command),
 * which made auto refuse a second core that was idle. It is measured only when the
 * answer changes the choice, and quickly: the wait is part of the user's run (a 0.1 s
 * window cost 13% of a 1 GiB SHA-256 scan). The figures come from
 * bench/io.bench.js and `mft bench` on 2-core machines (BENCHMARKS.md): streaming
 * reads a page-cached file at 1.0× cat while prefetch/pipelined/parallel reach
 * 0.6–0.8×; workers only pay off when the work per byte costs more than the copy
 * into shared memory and the hand-offs (SHA-256 at ~1.1 GB/s a core: 1.6×; CRC-32
 * at ~5 GB/s: a loss), and only when a second core is actually free.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import type { BlockSource } from './block-source.js';

export type ConcreteMode = 'streaming' | 'prefetch' | 'pipelined' | 'parallel' | 'mmap';

export interface AutoChoice {
  mode: ConcreteMode;
  reason: string;
  /** Bytes per chunk auto asks for (undefined: the mode's default). */
  chunkSize?: number;
}

/**
 * Chunk auto uses for a large streaming scan of a file: page-cached reads run at about
 * 1.35× the speed with 1 MiB reads than with the 256 KiB default (bench/io.bench.js:
 * fewer system calls; still small enough to stay in the core's cache for the checksum).
 */
export const AUTO_STREAMING_CHUNK = 1 << 20;

/** Below this, start-up costs of the other modes (threads, mappings) outweigh any gain. */
export const AUTO_SMALL_SCAN = 8 << 20;

/**
 * Per-chunk work slower than this (bytes/s on one core) dominates a page-cached
 * read, so spreading it over workers pays; faster work (CRC-32 ~5 GB/s) does not
 * cover the copy into shared memory and the hand-offs.
 */
export const WORK_DOMINATES_BELOW = 2.5e9;

/** How long busyCoresNow watches the CPUs where it cannot count runnable threads. */
const SAMPLE_MS = 100;
/** Samples of the runnable-thread count, 1 ms apart. */
const RUNNABLE_SAMPLES = 12;
let lastSample: { at: number; busy: number } | null = null;

const pause = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/** Threads runnable system-wide right now (Linux `procs_running`, this thread included); undefined elsewhere. */
function runnableThreads(): number | undefined {
  try {
    const m = /\nprocs_running (\d+)/.exec(readFileSync('/proc/stat', 'latin1'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Cores' non-idle time over a window (this thread waits meanwhile, so it is not counted). */
function busyOverWindow(ms: number): number {
  const times = (): { idle: number; total: number } => {
    let idle = 0;
    let total = 0;
    for (const c of cpus()) {
      idle += c.times.idle;
      total += c.times.user + c.times.nice + c.times.sys + c.times.idle + c.times.irq;
    }
    return { idle, total };
  };
  const before = times();
  pause(ms);
  const after = times();
  const total = after.total - before.total;
  return total > 0 ? Math.max(0, cpus().length * (1 - (after.idle - before.idle) / total)) : (loadavg()[0] ?? 0);
}

/**
 * Cores busy right now, remembered for a second. On Linux: the mean count of other
 * runnable threads over 12 samples 1 ms apart (about 15 ms; CPU-time counters tick every
 * 10 ms, too coarse for so short a window). Elsewhere: the CPUs' non-idle time over 0.1 s.
 */
export function busyCoresNow(): number {
  const now = Date.now();
  if (lastSample !== null && now - lastSample.at < 1000) return lastSample.busy;
  let busy: number;
  const first = runnableThreads();
  if (first !== undefined) {
    let sum = first - 1;
    for (let i = 1; i < RUNNABLE_SAMPLES; i++) {
      pause(1);
      sum += (runnableThreads() ?? 1) - 1;
    }
    busy = Math.max(0, sum / RUNNABLE_SAMPLES);
  } else {
    busy = busyOverWindow(SAMPLE_MS);
  }
  lastSample = { at: Date.now(), busy };
  return busy;
}

/** Cores free for a second thread: the core count less what is busy (measured now, see busyCoresNow). */
export function freeCores(cores: number, load = busyCoresNow()): number {
  return Math.max(0, cores - Math.max(0, load));
}

/** Whether a worker thread would get a core of its own: at least 1.5 cores free. */
export function secondCoreFree(cores: number, load?: number): boolean {
  return cores >= 2 && freeCores(cores, load) >= 1.5;
}

/**
 * `workRate`: bytes/s one core gets through the per-chunk work that could run in
 * workers (undefined: there is none). `load`: cores busy with other work (default:
 * measured now by busyCoresNow).
 */
export function chooseMode(source: BlockSource, totalBytes: number, cores: number, workRate?: number, load?: number): AutoChoice {
  if (totalBytes < AUTO_SMALL_SCAN) return { mode: 'streaming', reason: `small scan (${totalBytes} bytes): streaming has no start-up cost` };
  const fileLike = source.kind === 'file' || source.kind === 'slice';
  if (workRate !== undefined && workRate < WORK_DOMINATES_BELOW) {
    // Only here does a free core change the answer, so only here is it measured.
    const used = load ?? busyCoresNow();
    const busy = `${cores} cores, ${used.toFixed(2)} busy, ${freeCores(cores, used).toFixed(1)} free`;
    if (secondCoreFree(cores, used)) return { mode: 'parallel', reason: `per-chunk work (${(workRate / 1e9).toFixed(1)} GB/s a core) dominates reading and a second core is free (${busy})` };
    if (fileLike) return { mode: 'streaming', chunkSize: AUTO_STREAMING_CHUNK, reason: `per-chunk work dominates but no second core is free (${busy}): workers would only add hand-offs` };
  }
  if (source.kind === 'reader') return { mode: 'streaming', reason: "file read through the format's reader on the main thread: nothing to overlap" };
  if (source.kind === 'memory') return { mode: 'streaming', reason: 'in-memory source: reads are copies, nothing to overlap' };
  if (source.kind === 'block-device') return { mode: 'prefetch', reason: 'block device: read-ahead overlaps device latency with processing' };
  const chunk = `${AUTO_STREAMING_CHUNK >> 20} MiB reads`;
  if (workRate !== undefined && Number.isFinite(workRate)) return { mode: 'streaming', chunkSize: AUTO_STREAMING_CHUNK, reason: `per-chunk work is cheap (${(workRate / 1e9).toFixed(1)} GB/s a core): copying dominates, and synchronous ${chunk} from the page cache copy least` };
  return { mode: 'streaming', chunkSize: AUTO_STREAMING_CHUNK, reason: `regular file with main-thread processing: synchronous ${chunk} from the page cache are cheapest` };
}
