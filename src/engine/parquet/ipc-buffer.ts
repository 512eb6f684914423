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
  allocate: (bytes: number) => Uint8Array = (bytes) => new Uint8Array(bytes);

  // Every piece the writer emits (message headers, padding, column buffers) comes through here.
  protected override _write(chunk: ArrayBufferView): this {
    if (!this._started || chunk.byteLength === 0) return this;
    const piece = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const end = this.length + piece.length;
    if (end > this.bytes.length) {
      const grown = this.allocate(Math.max(end, 2 * this.bytes.length, 1 << 20));
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
 * `allocate` makes a larger buffer when one is needed (e.g. on a SharedArrayBuffer).
 */
export function tableToIpcInto(table: arrow.Table, buffer: Uint8Array, allocate: (bytes: number) => Uint8Array = (bytes) => new Uint8Array(bytes)): Uint8Array {
  const writer = new IpcBufferWriter();
  writer.allocate = allocate;
  // Room for the whole stream at once, with some to spare for the next batches: growing
  // piece by piece (1, 2, 4, 8, 16 MB, each copied) cost the first two 64k-row batches of
  // the 1M-row volume 275 and 590 ms, the later ones 2-20 ms (fresh pages, and the large
  // allocations prompting full collections of a heap that holds the index).
  const needed = bodyBytes(table) + (1 << 16);
  writer.bytes = buffer.length >= needed ? buffer : allocate(needed + (needed >> 3));
  writer.write(table);
  writer.finish();
  return writer.bytes.subarray(0, writer.length);
}

/** The bytes of every buffer of the table's columns (values, offsets, validity, children, dictionaries): the IPC body, give or take padding. */
function bodyBytes(table: arrow.Table): number {
  let total = 0;
  const visit = (data: arrow.Data): void => {
    for (const buffer of [data.values, data.valueOffsets, data.nullBitmap, data.typeIds] as (ArrayBufferView | undefined)[]) {
      // 8-byte padding per buffer, as the stream writes it
      if (buffer) total += buffer.byteLength + 8;
    }
    for (const child of data.children) visit(child);
    if (data.dictionary) for (const d of data.dictionary.data) visit(d);
  };
  for (const batch of table.batches) for (const child of batch.data.children) visit(child);
  return total;
}
