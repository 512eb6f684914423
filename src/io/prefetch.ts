/**
 * `prefetch`: read-ahead with `depth` buffers (2 = double buffering, 3 = triple).
 * While the consumer works on one buffer, the next depth-1 chunks are already being
 * read with asynchronous fs.read calls, so I/O and processing overlap.
 */
import { checkAborted, readChunkAsync } from './chunk-read.js';
import type { PlannedChunk } from './chunk-plan.js';
import { consumeTimed, type ModeContext } from './scan-context.js';

export const PREFETCH_DEFAULT_CHUNK = 1 << 20;
export const PREFETCH_DEFAULT_DEPTH = 2;

interface InFlight {
  chunk: PlannedChunk;
  buf: Buffer;
  done: Promise<void>;
}

export async function scanPrefetch(ctx: ModeContext): Promise<void> {
  const depth = Math.max(2, ctx.depth);
  const bufSize = Math.min(ctx.chunkSize, Math.max(ctx.total, 1));
  const free: Buffer[] = Array.from({ length: depth }, () => Buffer.allocUnsafe(bufSize));
  const inFlight: InFlight[] = [];
  ctx.stats.queueCapacity = depth - 1;

  const issue = (): void => {
    // keep one buffer back for the chunk being consumed
    while (free.length > 0 && inFlight.length < depth - 1) {
      const chunk = ctx.planner.next();
      if (!chunk) return;
      const buf = free.pop()!;
      const t0 = performance.now();
      const done = readChunkAsync(ctx.source, chunk, buf).then((calls) => ctx.stats.recordRead(calls, chunk.length, performance.now() - t0));
      // a failure is seen when this read is awaited; silence the unhandled-rejection path until then
      done.catch(() => {});
      inFlight.push({ chunk, buf, done });
    }
  };

  try {
    issue();
    while (inFlight.length > 0) {
      checkAborted(ctx.signal);
      const head = inFlight.shift()!;
      ctx.stats.sampleQueue(inFlight.length + 1);
      const t0 = performance.now();
      await head.done;
      ctx.stats.ioWaitMs += performance.now() - t0;
      issue();
      await consumeTimed(ctx, head.buf.subarray(0, head.chunk.length), head.chunk.logicalOffset);
      free.push(head.buf);
      ctx.progress(head.chunk.logicalOffset + head.chunk.length);
    }
  } finally {
    // let reads still in flight finish before their buffers go away
    await Promise.allSettled(inFlight.map((f) => f.done));
  }
}
