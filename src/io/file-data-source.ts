/**
 * File data read through a format's reader (Volume.openFile), seen as a BlockSource,
 * so that the read modes drive it chunk by chunk with scanExtents unchanged: a
 * position is a file offset, and a file is one extent [0, size). Several files may be
 * laid end to end in one address space (bench's random reads across files); each
 * reader is opened on the first read that touches it.
 *
 * There is no file descriptor behind it, so the modes that read by descriptor adapt:
 * prefetch and pipelined read synchronously, mmap copies each chunk out of the reader
 * (there are no pages to map: the bytes may be decompressed or decrypted), and
 * parallel fills its shared slots on the main thread and hands them to the workers
 * (a worker cannot call a reader that lives in the main thread's volume).
 */
import { DiskkitError, ErrorCode } from '../engine/errors.js';
import type { Extent, FileDataSource } from '../engine/volume.js';
import { newIoCounters, type BlockSource } from './block-source.js';

/** A file to read: its size, and how to get its reader (called at most once). */
export interface FileDataEntry {
  size: number;
  open(): FileDataSource;
}

export class FileDataBlockSource implements BlockSource {
  readonly kind = 'reader' as const;
  readonly counters = newIoCounters();
  readonly fd = undefined;
  readonly baseOffset = 0;
  readonly writable = false;
  readonly size: number;
  /** One file whose reader lends views: its view span (a 256 KiB chunk cut each 1 MiB extent in four calls and writes). */
  preferredChunkSize: number | undefined;
  /** starts[i]: where file i begins in this source. */
  private readonly starts: Float64Array;
  private readonly readers: (FileDataSource | null)[];

  constructor(
    readonly name: string,
    private readonly files: readonly FileDataEntry[],
  ) {
    this.starts = new Float64Array(files.length);
    let total = 0;
    for (let i = 0; i < files.length; i++) {
      this.starts[i] = total;
      total += files[i]!.size;
    }
    this.size = total;
    this.readers = files.map(() => null);
  }

  /** One file's reader as a source: its extent is [0, size) (none for an empty file). */
  static ofFile(name: string, reader: FileDataSource): { source: FileDataBlockSource; extents: Extent[] } {
    const source = new FileDataBlockSource(name, [{ size: reader.size, open: () => reader }]);
    if (reader.view && reader.viewSpan) source.preferredChunkSize = reader.viewSpan;
    return { source, extents: reader.size > 0 ? [{ position: 0, length: reader.size }] : [] };
  }

  /** Where file `index` starts in this source. */
  startOf(index: number): number {
    return this.starts[index]!;
  }

  readAt(buf: Uint8Array, offset: number, length: number, position: number): void {
    if (position < 0 || length < 0 || position + length > this.size) {
      throw new DiskkitError(ErrorCode.SHORT_READ, `read of ${length} bytes at ${position} is past the end of the file data (${this.size} bytes)`, {
        context: { image: this.name, position, length, size: this.size },
      });
    }
    let i = this.fileAt(position);
    let done = 0;
    while (done < length) {
      const within = position + done - this.starts[i]!;
      const n = Math.min(length - done, this.files[i]!.size - within);
      if (n > 0) {
        const reader = (this.readers[i] ??= this.files[i]!.open());
        reader.read(buf.subarray(offset + done, offset + done + n), n, within);
        this.counters.readCalls++;
        done += n;
      }
      i++;
    }
    this.counters.bytesRead += length;
  }

  viewAt(length: number, position: number): Uint8Array | null {
    if (position < 0 || length <= 0 || position + length > this.size) return null;
    const i = this.fileAt(position);
    const within = position - this.starts[i]!;
    if (within + length > this.files[i]!.size) return null;
    const reader = (this.readers[i] ??= this.files[i]!.open());
    const view = reader.view?.(length, within) ?? null;
    if (view === null) return null;
    this.counters.readCalls++;
    this.counters.bytesRead += length;
    return view;
  }

  writeAt(): void {
    throw new DiskkitError(ErrorCode.READ_ONLY, 'file data read through a reader cannot be written', { context: { image: this.name } });
  }

  sync(): void {}

  /** The readers belong to their volume, which the caller closes. */
  close(): void {}

  /** The last file starting at or before `position` that is not empty there. */
  private fileAt(position: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.starts[mid]! <= position) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
