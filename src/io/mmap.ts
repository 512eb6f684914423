/**
 * `mmap`: zero-copy views of the image through @riaskov/mmap-io. The file is mapped
 * privately (copy-on-write) in page-aligned windows (a Node Buffer cannot exceed 4 GiB, and windows
 * keep the address space small); a chunk that lies inside one window is handed to
 * the consumer as a view of the mapping, with no copy; a chunk that gathers several
 * pieces or crosses a window edge is copied into one buffer. Only regular files can
 * be mapped: anything else gets a clear E_UNSUPPORTED naming the modes that work.
 * Windows starting past 2 GiB cannot be mapped by the binding and are read instead,
 * and so is file data that a format's reader produces (file-data-source.ts).
 */
import { fstatSync } from 'node:fs';
import { DiskkitError, ErrorCode } from '../engine/errors.js';
import type { MemoryBlockSource } from './block-source.js';
import { checkAborted } from './chunk-read.js';
import { consumeTimed, type ModeContext } from './scan-context.js';
import { FileWindows, loadMmapBinding, WINDOW_BYTES } from './mmap-window.js';

export const MMAP_DEFAULT_CHUNK = 4 << 20;

function mmapUnsupported(name: string, why: string): DiskkitError {
  return new DiskkitError(ErrorCode.UNSUPPORTED, `cannot memory-map: ${why}`, { context: { image: name }, hint: 'use --mode streaming or --mode prefetch' });
}

export async function scanMmap(ctx: ModeContext): Promise<void> {
  const { source } = ctx;
  ctx.stats.queueCapacity = 1;
  let windowFor: (position: number, length: number) => { buf: Buffer; offset: number } | null;
  /** Lets go of the pages of a consumed chunk (file-backed windows only). */
  let release: (buf: Buffer, offset: number, length: number) => void = () => {};
  if (source.kind === 'memory') {
    const bytes = (source as MemoryBlockSource).bytes;
    windowFor = (position) => ({ buf: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: position });
  } else if (source.kind === 'reader') {
    // A format's reader (decompressed, decrypted...) has no pages to map: every chunk is
    // copied out of it, as a chunk crossing a window edge is for a file.
    windowFor = () => null;
  } else {
    if (source.fd === undefined) throw mmapUnsupported(source.name, 'the source has no file descriptor');
    const st = fstatSync(source.fd);
    if (!st.isFile()) throw mmapUnsupported(source.name, 'only regular files can be mapped (this is a device or a pipe)');
    const mm = loadMmapBinding();
    if (!mm) {
      throw new DiskkitError(ErrorCode.UNSUPPORTED, 'mmap mode is not available here (the @riaskov/mmap-io binding did not load)', { context: { image: source.name }, hint: 'use --mode streaming or --mode prefetch' });
    }
    const windows = new FileWindows(mm, source.fd, source.baseOffset, st.size);
    // Pages of consumed chunks are dropped from the mapping (they stay in the page
    // cache), so a scan's resident memory stays about one chunk, not the window.
    release = (buf, offset, length) => windows.release(buf, offset, length);
    windowFor = (position, length) => {
      try {
        return windows.view(position, length);
      } catch (error) {
        throw mmapUnsupported(source.name, `mapping failed (${error instanceof Error ? error.message : String(error)}; ${length} bytes at ${source.baseOffset + position})`);
      }
    };
  }
  let gather: Buffer | null = null;
  for (let chunk = ctx.planner.next(); chunk; chunk = ctx.planner.next()) {
    checkAborted(ctx.signal);
    const t0 = performance.now();
    let view: Uint8Array;
    const only = chunk.pieces.length === 1 ? windowFor(chunk.pieces[0]!.position, chunk.length) : null;
    if (only) {
      view = only.buf.subarray(only.offset, only.offset + chunk.length);
    } else {
      gather ??= Buffer.allocUnsafe(Math.min(ctx.chunkSize, ctx.total));
      let at = 0;
      for (const piece of chunk.pieces) {
        let done = 0;
        while (done < piece.length) {
          const n = Math.min(piece.length - done, WINDOW_BYTES / 2);
          const w = windowFor(piece.position + done, n);
          if (w) {
            gather.set(w.buf.subarray(w.offset, w.offset + n), at);
            release(w.buf, w.offset, n);
          } else source.readAt(gather, at, n, piece.position + done);
          at += n;
          done += n;
        }
      }
      view = gather.subarray(0, chunk.length);
    }
    // mapping costs no read call: pages fault in while the consumer touches them
    ctx.stats.recordRead(0, chunk.length, performance.now() - t0);
    await consumeTimed(ctx, view, chunk.logicalOffset);
    if (only) release(only.buf, only.offset, chunk.length);
    ctx.progress(chunk.logicalOffset + chunk.length);
  }
}
