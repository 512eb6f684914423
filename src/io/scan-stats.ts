/**
 * The I/O statistics every scan collects: read calls, bytes, where the time went
 * (waiting for I/O vs processing), queue occupancy and per-chunk read latency.
 * Latencies go into a log-scale histogram (bounded memory whatever the scan size;
 * percentiles are accurate to about 9%).
 */

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface CacheCounters {
  hits: number;
  misses: number;
}

export interface ScanStats {
  readCalls: number;
  bytesRead: number;
  /** Wall time of the whole scan, worker start-up included. */
  wallMs: number;
  /** Main-thread time spent waiting for the next chunk's bytes (parallel: for the next in-order result, worker start-up included). */
  ioWaitMs: number;
  /** Sum of the read durations (in whichever thread read). */
  readMs: number;
  /** Sum of per-chunk processing time (consumer on the main thread, plus worker `process` time). */
  processMs: number;
  /** Occupancy of the buffer queue (pipelined/prefetch) or of the slots (parallel), sampled per chunk. */
  queue: { capacity: number; samples: number; mean: number; max: number };
  /** Per-chunk read latency in milliseconds. */
  chunkLatencyMs: LatencySummary;
  /** Worker start-up time (parallel), ms. */
  workerStartMs: number;
  /** Whether the parallel scan's workers were started ahead of it (a WorkerPool handed in) rather than by the scan. */
  workersStartedAhead: boolean;
  /** Hit/miss counters of engine caches (the FAT and directory caches), by cache name; filled by the engine. */
  caches: Record<string, CacheCounters>;
}

const BUCKETS_PER_DOUBLING = 8;
const BUCKET_COUNT = BUCKETS_PER_DOUBLING * 48;

/** A log-scale histogram of durations in microseconds. */
export class LatencyHistogram {
  // Made on the second sample: cp -r scans once per file, and most files are one chunk.
  private counts: Float64Array | null = null;
  private firstBucket = 0;
  private total = 0;
  private maxUs = 0;

  add(ms: number): void {
    const us = Math.max(ms * 1000, 1);
    const bucket = Math.min(BUCKET_COUNT - 1, Math.floor(Math.log2(us) * BUCKETS_PER_DOUBLING));
    if (this.total === 0) this.firstBucket = bucket;
    else {
      if (this.counts === null) {
        this.counts = new Float64Array(BUCKET_COUNT);
        this.counts[this.firstBucket]!++;
      }
      this.counts[bucket]!++;
    }
    this.total++;
    if (us > this.maxUs) this.maxUs = us;
  }

  /** The upper bound (ms) of the bucket holding quantile q. */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    if (this.counts === null) return Math.min(2 ** ((this.firstBucket + 1) / BUCKETS_PER_DOUBLING), this.maxUs) / 1000;
    const target = q * this.total;
    let seen = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += this.counts[i]!;
      if (seen >= target) return Math.min(2 ** ((i + 1) / BUCKETS_PER_DOUBLING), this.maxUs) / 1000;
    }
    return this.maxUs / 1000;
  }

  summary(): LatencySummary {
    return { count: this.total, p50: round3(this.quantile(0.5)), p95: round3(this.quantile(0.95)), p99: round3(this.quantile(0.99)), max: round3(this.maxUs / 1000) };
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Collects the counters while a scan runs; `finish()` turns them into ScanStats. */
export class StatsCollector {
  readCalls = 0;
  bytesRead = 0;
  ioWaitMs = 0;
  readMs = 0;
  processMs = 0;
  workerStartMs = 0;
  workersStartedAhead = false;
  queueCapacity = 0;
  private queueSamples = 0;
  private queueSum = 0;
  private queueMax = 0;
  readonly latency = new LatencyHistogram();
  private readonly started = performance.now();

  /** Records one completed read of a chunk (`calls` system calls, `bytes` bytes, `ms` long). */
  recordRead(calls: number, bytes: number, ms: number): void {
    this.readCalls += calls;
    this.bytesRead += bytes;
    this.readMs += ms;
    this.latency.add(ms);
  }

  sampleQueue(occupancy: number): void {
    this.queueSamples++;
    this.queueSum += occupancy;
    if (occupancy > this.queueMax) this.queueMax = occupancy;
  }

  finish(caches: Record<string, CacheCounters> = {}): ScanStats {
    const r = (x: number) => Math.round(x * 1000) / 1000;
    return {
      readCalls: this.readCalls,
      bytesRead: this.bytesRead,
      wallMs: r(performance.now() - this.started),
      ioWaitMs: r(this.ioWaitMs),
      readMs: r(this.readMs),
      processMs: r(this.processMs),
      queue: {
        capacity: this.queueCapacity,
        samples: this.queueSamples,
        mean: this.queueSamples ? r(this.queueSum / this.queueSamples) : 0,
        max: this.queueMax,
      },
      chunkLatencyMs: this.latency.summary(),
      workerStartMs: r(this.workerStartMs),
      workersStartedAhead: this.workersStartedAhead,
      caches,
    };
  }
}
