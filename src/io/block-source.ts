/**
 * Positional, synchronous access to the bytes of an image: a file, a block device,
 * a partition inside either, or memory. Reads go into caller-owned buffers. A read
 * that cannot be satisfied in full throws: a short read never silently yields zeros.
 *
 * The engine's metadata paths read through this interface; bulk scans (cat, cp,
 * fsck, mft index, bench) go through the read modes of src/io, which use the same
 * file descriptor.
 */
import { closeSync, constants, fstatSync, openSync, readSync, writeSync, fsyncSync } from 'node:fs';
import { DiskkitError, ErrorCode, fromSystemError } from '../engine/errors.js';

export interface IoCounters {
  readCalls: number;
  bytesRead: number;
  writeCalls: number;
  bytesWritten: number;
}

export function newIoCounters(): IoCounters {
  return { readCalls: 0, bytesRead: 0, writeCalls: 0, bytesWritten: 0 };
}

/**
 * Sees every write to an image file before it happens (the rollback journal saves
 * what the write will overwrite), and is told when the source closes.
 */
export interface WriteGuard {
  beforeWrite(position: number, length: number): void;
  /** The source is closing; the guard undoes what nobody committed. */
  release(): void;
}

export interface BlockSource {
  /** What the user named: used in error messages. */
  readonly name: string;
  /** 'reader': a format's file reader seen as a source (file-data-source.ts); it has no fd. */
  readonly kind: 'file' | 'block-device' | 'memory' | 'slice' | 'reader';
  /** Size in bytes. */
  readonly size: number;
  /** Whether writeAt is allowed. */
  readonly writable: boolean;
  readonly counters: IoCounters;
  /** The underlying file descriptor and the byte offset of this source inside it, when there is one. */
  readonly fd: number | undefined;
  readonly baseOffset: number;
  /** What sees each write first (the journal), when there is one; a slice shows its parent's. */
  readonly writeGuard?: WriteGuard;
  /** Reads exactly `length` bytes at `position` into `buf[offset..]`; throws E_SHORT_READ when the source ends first. */
  readAt(buf: Uint8Array, offset: number, length: number, position: number): void;
  /**
   * Optional: `length` bytes at `position` as a view of the source's own buffer, valid
   * until the next call on the source and never written to; null when the source cannot
   * give them without a copy (then readAt). A format's reader (file-data-source.ts) has
   * its decoded bytes in memory already: streaming hands them on as they are.
   */
  viewAt?(length: number, position: number): Uint8Array | null;
  /** The chunk size streaming uses unless one is asked for: what viewAt lends whole (a Cartridge extent). */
  readonly preferredChunkSize?: number;
  /** Writes exactly `length` bytes from `buf[offset..]` at `position`. */
  writeAt(buf: Uint8Array, offset: number, length: number, position: number): void;
  /** Flushes writes to stable storage. */
  sync(): void;
  close(): void;
}

/** Reads `length` bytes at `position` into a new buffer. */
export function readBytes(source: BlockSource, position: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  source.readAt(buf, 0, length, position);
  return buf;
}

function shortRead(name: string, position: number, length: number, size: number): DiskkitError {
  return new DiskkitError(ErrorCode.SHORT_READ, `image ends before byte ${position + length} (it has ${size} bytes)`, {
    context: { image: name, position, length, size },
  });
}

export class FileBlockSource implements BlockSource {
  readonly kind: 'file' | 'block-device';
  readonly counters = newIoCounters();
  readonly baseOffset = 0;
  private closed = false;
  writeGuard: WriteGuard | undefined;

  private constructor(
    readonly name: string,
    readonly fd: number,
    readonly size: number,
    readonly writable: boolean,
    isBlockDevice: boolean,
  ) {
    this.kind = isBlockDevice ? 'block-device' : 'file';
  }

  /** Opens an image file or block device. `create` makes a new file (for mkfs). */
  static open(path: string, options: { writable?: boolean; create?: boolean } = {}): FileBlockSource {
    // O_NONBLOCK: opening a FIFO for reading blocks until a writer comes, and a FIFO
    // named as an image would hang the command there; it is refused below instead.
    // (Regular files and block devices ignore the flag.)
    const access = options.create ? constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC : options.writable ? constants.O_RDWR : constants.O_RDONLY;
    const flags = access | constants.O_NONBLOCK;
    let fd: number;
    try {
      fd = openSync(path, flags);
    } catch (error) {
      throw fromSystemError(error, path, options.writable ? 'open image for writing' : 'open image');
    }
    try {
      const st = fstatSync(fd);
      if (st.isDirectory()) {
        throw new DiskkitError(ErrorCode.IS_A_DIRECTORY, 'is a directory, not an image', { context: { image: path } });
      }
      if (!st.isFile() && !st.isBlockDevice()) {
        const kind = st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : st.isCharacterDevice() ? 'a character device' : 'not a regular file';
        throw new DiskkitError(ErrorCode.UNSUPPORTED, `is ${kind}, not an image (diskkit reads image files and block devices)`, { context: { image: path } });
      }
      const size = st.isBlockDevice() ? blockDeviceSize(fd) : st.size;
      return new FileBlockSource(path, fd, size, Boolean(options.writable || options.create), st.isBlockDevice());
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  readAt(buf: Uint8Array, offset: number, length: number, position: number): void {
    if (position < 0 || position + length > this.size) throw shortRead(this.name, position, length, this.size);
    let done = 0;
    while (done < length) {
      let n: number;
      try {
        n = readSync(this.fd, buf, offset + done, length - done, position + done);
      } catch (error) {
        throw fromSystemError(error, this.name, 'read image');
      }
      this.counters.readCalls++;
      if (n === 0) throw shortRead(this.name, position, length, position + done);
      done += n;
    }
    this.counters.bytesRead += length;
  }

  writeAt(buf: Uint8Array, offset: number, length: number, position: number): void {
    if (!this.writable) throw new DiskkitError(ErrorCode.IO, 'image opened read-only', { context: { image: this.name } });
    this.writeGuard?.beforeWrite(position, length);
    let done = 0;
    while (done < length) {
      let n: number;
      try {
        n = writeSync(this.fd, buf, offset + done, length - done, position + done);
      } catch (error) {
        throw fromSystemError(error, this.name, 'write image');
      }
      this.counters.writeCalls++;
      done += n;
    }
    this.counters.bytesWritten += length;
    if (position + length > this.size && this.kind === 'file') (this as { size: number }).size = position + length;
  }

  sync(): void {
    if (this.writable) fsyncSync(this.fd);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.writeGuard?.release();
    } finally {
      closeSync(this.fd);
    }
  }
}

/**
 * Size of a block device: fstat reports 0 for them, so find the end by probing
 * reads (binary search on 512-byte granularity).
 */
function blockDeviceSize(fd: number): number {
  const probe = Buffer.alloc(512);
  const readable = (sector: number): boolean => {
    try {
      return readSync(fd, probe, 0, 512, sector * 512) === 512;
    } catch {
      return false;
    }
  };
  if (!readable(0)) return 0;
  let low = 0;
  let high = 1;
  while (readable(high)) {
    low = high;
    high *= 2;
    if (high > 2 ** 44) break;
  }
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (readable(mid)) low = mid;
    else high = mid;
  }
  return (low + 1) * 512;
}

/** A window [start, start+length) of another source: a partition. */
export class SliceBlockSource implements BlockSource {
  readonly kind = 'slice' as const;
  readonly counters: IoCounters;

  constructor(
    readonly parent: BlockSource,
    readonly start: number,
    readonly size: number,
  ) {
    if (start < 0 || start + size > parent.size) {
      throw new DiskkitError(ErrorCode.TRUNCATED, `partition runs past the end of the image (bytes ${start}..${start + size}, image ${parent.size})`, {
        context: { image: parent.name, start, size, imageSize: parent.size },
      });
    }
    this.counters = parent.counters;
  }

  get name(): string {
    return this.parent.name;
  }
  get writable(): boolean {
    return this.parent.writable;
  }
  get fd(): number | undefined {
    return this.parent.fd;
  }
  get writeGuard(): WriteGuard | undefined {
    return this.parent.writeGuard;
  }
  get baseOffset(): number {
    return this.parent.baseOffset + this.start;
  }

  readAt(buf: Uint8Array, offset: number, length: number, position: number): void {
    if (position < 0 || position + length > this.size) throw shortRead(this.name, position, length, this.size);
    this.parent.readAt(buf, offset, length, this.start + position);
  }

  writeAt(buf: Uint8Array, offset: number, length: number, position: number): void {
    if (position < 0 || position + length > this.size) {
      throw new DiskkitError(ErrorCode.NO_SPACE, `write past the end of the partition`, { context: { image: this.name, position, length } });
    }
    this.parent.writeAt(buf, offset, length, this.start + position);
  }

  sync(): void {
    this.parent.sync();
  }

  close(): void {
    this.parent.close();
  }
}

/** An in-memory image, for tests and builders. */
export class MemoryBlockSource implements BlockSource {
  readonly kind = 'memory' as const;
  readonly counters = newIoCounters();
  readonly fd = undefined;
  readonly baseOffset = 0;
  readonly writable = true;

  constructor(
    readonly bytes: Uint8Array,
    readonly name = 'memory',
  ) {}

  get size(): number {
    return this.bytes.length;
  }

  readAt(buf: Uint8Array, offset: number, length: number, position: number): void {
    if (position < 0 || position + length > this.bytes.length) throw shortRead(this.name, position, length, this.bytes.length);
    buf.set(this.bytes.subarray(position, position + length), offset);
    this.counters.readCalls++;
    this.counters.bytesRead += length;
  }

  writeAt(buf: Uint8Array, offset: number, length: number, position: number): void {
    if (position < 0 || position + length > this.bytes.length) {
      throw new DiskkitError(ErrorCode.NO_SPACE, 'write past the end of the memory image', { context: { position, length } });
    }
    this.bytes.set(buf.subarray(offset, offset + length), position);
    this.counters.writeCalls++;
    this.counters.bytesWritten += length;
  }

  sync(): void {}
  close(): void {}
}
