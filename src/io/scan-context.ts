/** What scan.ts hands each read mode: the plan, the consumer and the collectors. */
import type { BlockSource } from './block-source.js';
import type { ChunkPlanner } from './chunk-plan.js';
import type { StatsCollector } from './scan-stats.js';

/** A per-chunk callback in logical order; the chunk is only valid during the call. */
export type ChunkConsumer = (chunk: Uint8Array, logicalOffset: number) => void | Promise<void>;

export interface ModeContext {
  source: BlockSource;
  planner: ChunkPlanner;
  chunkSize: number;
  depth: number;
  workers: number;
  total: number;
  consume: ChunkConsumer;
  stats: StatsCollector;
  signal: AbortSignal | undefined;
  /** Reports bytes done (scan.ts throttles nothing: modes call it once per chunk). */
  progress: (bytesDone: number) => void;
}

/** Runs the consumer, timing it as processing time; awaits only when it returned a promise. */
export async function consumeTimed(ctx: ModeContext, chunk: Uint8Array, logicalOffset: number): Promise<void> {
  const t0 = performance.now();
  const r = ctx.consume(chunk, logicalOffset);
  if (r) await r;
  ctx.stats.processMs += performance.now() - t0;
}
