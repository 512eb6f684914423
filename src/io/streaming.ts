/**
 * `streaming`: one reused buffer, chunks read synchronously in order and handed to
 * the consumer. The simplest mode, and on a page-cached file the fastest for a
 * consumer that does little per byte (no thread hand-offs at all).
 */
import { checkAborted, readChunkSync } from './chunk-read.js';
import { consumeTimed, type ModeContext } from './scan-context.js';

// 256 KiB measured fastest on a page-cached file (bench/io.bench.js): the buffer stays in L2
export const STREAMING_DEFAULT_CHUNK = 256 << 10;

/** Buffers up to this size are kept for the next scan. */
const KEEP_BYTES = 1 << 20;
/** A buffer a finished scan left for the next one (cp -r scans once per file: no allocation per file). */
let idle: Buffer | null = null;

export async function scanStreaming(ctx: ModeContext): Promise<void> {
  const need = Math.min(ctx.chunkSize, Math.max(ctx.total, 1));
  // Taken, not shared: two scans running at once (awaiting their consumers) never share a buffer.
  let buf: Buffer;
  if (idle !== null && idle.length >= need) {
    buf = idle;
    idle = null;
  } else buf = Buffer.allocUnsafe(need);
  try {
    await readAll(ctx, buf);
  } finally {
    if (buf.length <= KEEP_BYTES && (idle === null || idle.length < buf.length)) idle = buf;
  }
}

async function readAll(ctx: ModeContext, buf: Buffer): Promise<void> {
  ctx.stats.queueCapacity = 1;
  for (let chunk = ctx.planner.next(); chunk; chunk = ctx.planner.next()) {
    checkAborted(ctx.signal);
    const t0 = performance.now();
    // A source that holds the bytes already (a format's decoded extent) lends them: no copy into buf.
    const view = chunk.pieces.length === 1 ? (ctx.source.viewAt?.(chunk.length, chunk.pieces[0]!.position) ?? null) : null;
    const calls = view ? 1 : readChunkSync(ctx.source, chunk, buf);
    const ms = performance.now() - t0;
    ctx.stats.recordRead(calls, chunk.length, ms);
    ctx.stats.ioWaitMs += ms;
    await consumeTimed(ctx, view ?? buf.subarray(0, chunk.length), chunk.logicalOffset);
    ctx.progress(chunk.logicalOffset + chunk.length);
  }
}
