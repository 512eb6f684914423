/**
 * `pipelined`: a reader loop fills buffers with asynchronous reads, one after the
 * other, and feeds them into a bounded queue of `depth` entries that the consumer
 * drains. A full queue stops the reader (backpressure); at most depth+1 buffers exist.
 */
import { checkAborted, readChunkAsync } from './chunk-read.js';
import type { PlannedChunk } from './chunk-plan.js';
import { BoundedQueue } from './bounded-queue.js';
import { consumeTimed, type ModeContext } from './scan-context.js';

// larger chunks amortise the per-read promise and queue hand-off (measured: 4 MiB > 1 MiB > 256 KiB)
export const PIPELINED_DEFAULT_CHUNK = 4 << 20;
export const PIPELINED_DEFAULT_DEPTH = 4;

interface Filled {
  chunk: PlannedChunk;
  buf: Buffer;
}

export async function scanPipelined(ctx: ModeContext): Promise<void> {
  const depth = Math.max(1, ctx.depth);
  const bufSize = Math.min(ctx.chunkSize, Math.max(ctx.total, 1));
  const queue = new BoundedQueue<Filled>(depth);
  // depth queued + one being consumed + one being filled
  const spare: Buffer[] = Array.from({ length: depth + 2 }, () => Buffer.allocUnsafe(bufSize));
  let waitSpare: (() => void) | null = null;
  let stopped = false;
  ctx.stats.queueCapacity = depth;

  const reader = (async () => {
    for (let chunk = ctx.planner.next(); chunk; chunk = ctx.planner.next()) {
      checkAborted(ctx.signal);
      while (spare.length === 0 && !stopped) await new Promise<void>((resolve) => (waitSpare = resolve));
      if (stopped) return;
      const buf = spare.pop()!;
      const t0 = performance.now();
      const calls = await readChunkAsync(ctx.source, chunk, buf);
      ctx.stats.recordRead(calls, chunk.length, performance.now() - t0);
      await queue.push({ chunk, buf });
    }
    queue.close();
  })();
  reader.catch((error) => queue.fail(error));

  try {
    for (;;) {
      checkAborted(ctx.signal);
      ctx.stats.sampleQueue(queue.size);
      const t0 = performance.now();
      const item = await queue.shift();
      ctx.stats.ioWaitMs += performance.now() - t0;
      if (!item) break;
      await consumeTimed(ctx, item.buf.subarray(0, item.chunk.length), item.chunk.logicalOffset);
      spare.push(item.buf);
      const w = waitSpare as (() => void) | null;
      waitSpare = null;
      w?.();
      ctx.progress(item.chunk.logicalOffset + item.chunk.length);
    }
    await reader;
  } catch (error) {
    stopped = true;
    queue.fail(error);
    const w = waitSpare as (() => void) | null;
    w?.();
    await reader.catch(() => {});
    throw error;
  }
}
