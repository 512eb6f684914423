/**
 * Arrow IPC stream bytes of one batch, written straight into a buffer that is used
 * again for the next batch. apache-arrow's tableToIPC gathers the pieces and joins
 * them into a new buffer each time: with the copies made to hand it the columns,
 * two fresh ~12 MB allocations per 64k-row batch, whose first touch (page faults,
 * the kernel zeroing pages) cost more than the copying itself (on the 1M-row volume
 * the largest single item of the main thread's profile). Here the column buffers
 * are read in place and copied once, into memory that is already mapped.
 */
import * as arrow from './arrow.js';

class IpcBufferWriter extends arrow.RecordBatchStreamWriter {
  bytes: Uint8Array = new Uint8Array(0);
  length = 0;

  // Every piece the writer emits (message headers, padding, column buffers) comes through here.
  protected override _write(chunk: ArrayBufferView): this {
    if (!this._started || chunk.byteLength === 0) return this;
    const piece = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const end = this.length + piece.length;
    if (end > this.bytes.length) {
      const grown = new Uint8Array(Math.max(end, 2 * this.bytes.length, 1 << 20));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    this.bytes.set(piece, this.length);
    this.length = end;
    this._position += piece.length;
    return this;
  }
}

/**
 * The table as an Arrow IPC stream (schema, record batches, end marker), written
 * into `buffer` from its start when it is large enough, else into a larger one.
 * Returns a view of the bytes; its `.buffer` is the one to pass again next time.
 */
export function tableToIpcInto(table: arrow.Table, buffer: Uint8Array): Uint8Array {
  const writer = new IpcBufferWriter();
  writer.bytes = buffer;
  writer.write(table);
  writer.finish();
  return writer.bytes.subarray(0, writer.length);
}
