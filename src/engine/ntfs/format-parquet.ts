/**
 * Apache Parquet output of `mft index` (issue 13): the JSONL fields as typed
 * columns, for DuckDB, Spark, Trino and the like.
 *
 * Columns: source (string), record, sequence, links (UINT32), parent, size,
 * allocated (INT64), path, name (string), isDir, deleted (BOOLEAN), flags
 * (list<string>), si_created … si_accessed (TIMESTAMP, null without
 * $STANDARD_INFORMATION), fn_created … fn_accessed (TIMESTAMP), streams
 * (list<struct<name string, size INT64>>). Times are TIMESTAMP(MICROS, UTC): what
 * DuckDB, Spark and Trino read without settings, over FILETIME's whole range;
 * FILETIME's last (100 ns) digit, which JSONL keeps, is dropped (rounded down).
 * Names holding a lone UTF-16 surrogate get U+FFFD in its place (Parquet strings
 * are UTF-8; JSONL keeps the surrogate as a \u escape).
 *
 * Rows are gathered a batch at a time into Arrow columns built straight from the
 * index (no per-row objects), and written by ../parquet/write-stream.ts (row
 * groups of about a million rows, Snappy, statistics).
 */
import * as arrow from '../parquet/arrow.js';
import { ROW_GROUP_ROWS, writeParquetStream, writeParquetToFd, type EncodeThread } from '../parquet/write-stream.js';
import { FLAG_NAMES, flagMask, countRow, emptyTotals, rowSize, type RowTotals } from './format-rows.js';
import { forEachRow, isDirectory, ROW_ORPHANED, ROW_ROOT, ROW_SELF, type MftIndex, type RowOptions, type RowRef } from './mft-index.js';
import { isInUse, ORPHAN_DIR } from './paths.js';
import { Present } from './record-table.js';
import { wellFormed } from './byte-writer.js';
import { bits, setBit, setFiletimeMicros, setInt64, StringColumn } from '../parquet/arrow-columns.js';
import { checkAborted } from '../../io/chunk-read.js';
import { writeAtomically } from '../../io/atomic-output.js';

/** Rows per Arrow batch handed to the writer: bounds the JS-side memory. */
const BATCH_ROWS = 1 << 16;


/** Columns with few distinct values; the others (paths, names, numbers, times) are mostly unique. */
const DICTIONARY_COLUMNS = ['source', 'flags.list.element', 'streams.list.element.name'];

const TIME_COLUMNS = ['created', 'modified', 'mftModified', 'accessed'] as const;

/** INT64 columns whose neighbouring values are close: the eight times, record numbers in MFT order, parents (files of a directory are mostly together). */
const DELTA_COLUMNS = [...TIME_COLUMNS.map((c) => `si_${c}`), ...TIME_COLUMNS.map((c) => `fn_${c}`), 'record', 'parent'];

/** Column names in output order. */
export const PARQUET_COLUMNS = [
  'source', 'record', 'sequence', 'parent', 'path', 'name', 'size', 'allocated', 'isDir', 'deleted', 'flags',
  ...TIME_COLUMNS.map((c) => `si_${c}`), ...TIME_COLUMNS.map((c) => `fn_${c}`), 'links', 'streams',
] as const;

export interface ParquetSettings {
  /** Rows per row group (default ROW_GROUP_ROWS); tests use small values to get several. */
  rowGroupRows?: number;
  /** Rows per batch (default BATCH_ROWS). */
  batchRows?: number;
  /** Stops the write (with E_CANCELLED) between batches. */
  signal?: AbortSignal | undefined;
  /** writeParquetFile: the encode worker, started before the index was built (null: encode on this thread). */
  encoder?: EncodeThread | null | undefined;
}

const FLAG_BYTES = FLAG_NAMES.map((f) => new TextEncoder().encode(f));
const ORPHAN_UNITS = Uint16Array.from(ORPHAN_DIR, (c) => c.charCodeAt(0));
const SLASH = Uint16Array.of(0x2f);
const COLON = Uint16Array.of(0x3a);

const TIMESTAMP = new arrow.TimestampMicrosecond('UTC');
const SOURCE_TYPE = new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32());
const STREAM_STRUCT = new arrow.Struct([new arrow.Field('name', new arrow.Utf8(), false), new arrow.Field('size', new arrow.Int64(), false)]);

/** One batch of rows as Arrow columns, built from the index. */
class Batch {
  n = 0;
  record: Uint32Array;
  sequence: Uint32Array;
  links: Uint32Array;
  parent: Int32Array;
  size: Int32Array;
  allocated: Int32Array;
  isDir: Uint8Array;
  deleted: Uint8Array;
  siValid: Uint8Array;
  times: Int32Array[];
  readonly path: StringColumn;
  readonly name: StringColumn;
  flagOffsets: Int32Array;
  readonly flagValues: StringColumn;
  streamOffsets: Int32Array;
  readonly streamNames: StringColumn;
  streamSizes: Int32Array;
  streamCount = 0;
  /** The `source` column's dictionary indices: all zero, kept from batch to batch (a fresh array each time was more external memory for V8 to collect). */
  private sourceIndices = new Int32Array(0);

  constructor(public capacity: number) {
    const c = capacity;
    this.record = new Uint32Array(c);
    this.sequence = new Uint32Array(c);
    this.links = new Uint32Array(c);
    this.parent = new Int32Array(2 * c);
    this.size = new Int32Array(2 * c);
    this.allocated = new Int32Array(2 * c);
    this.isDir = bits(c);
    this.deleted = bits(c);
    this.siValid = bits(c);
    this.times = Array.from({ length: 8 }, () => new Int32Array(2 * c));
    this.path = new StringColumn(c, c * 64);
    this.name = new StringColumn(c, c * 24);
    this.flagOffsets = new Int32Array(c + 1);
    this.flagValues = new StringColumn(c, c * 8);
    this.streamOffsets = new Int32Array(c + 1);
    this.streamNames = new StringColumn(256, 4096);
    this.streamSizes = new Int32Array(512);
  }

  reset(): void {
    this.n = 0;
    this.isDir.fill(0);
    this.deleted.fill(0);
    this.siValid.fill(0);
    this.path.reset();
    this.name.reset();
    this.flagValues.reset();
    this.streamNames.reset();
    this.streamCount = 0;
    this.lastDir = -1;
  }

  /** The directory whose path (with its '/') was last written, and where in path.bytes: files of one directory mostly follow each other. */
  private lastDir = -1;
  private lastDirAt = 0;
  private lastDirEnd = 0;

  /**
   * The record batch of the rows gathered so far, with `source` repeated. Its columns are
   * views of this batch's arrays (no copies): it is encoded before the batch is reset.
   */
  toTable(source: Uint8Array): arrow.Table {
    const n = this.n;
    // One value for every row: a dictionary of one string and a zero index per row (Parquet stores it dictionary-encoded).
    const sourceValue = new StringColumn(1, source.length);
    sourceValue.raw(source);
    sourceValue.end();
    if (this.sourceIndices.length < n) this.sourceIndices = new Int32Array(this.capacity);
    const sourceColumn = arrow.makeData({ type: SOURCE_TYPE, length: n, data: this.sourceIndices.subarray(0, n), dictionary: arrow.makeVector(sourceValue.data()) });
    const int64 = (words: Int32Array): arrow.Data => arrow.makeData({ type: new arrow.Int64(), length: n, data: new BigInt64Array(words.buffer, 0, n) });
    const uint32 = (values: Uint32Array): arrow.Data => arrow.makeData({ type: new arrow.Uint32(), length: n, data: values.subarray(0, n) });
    const bool = (bitmap: Uint8Array): arrow.Data => arrow.makeData({ type: new arrow.Bool(), length: n, data: bitmap.subarray(0, (n + 7) >> 3) });
    const time = (k: number, valid: Uint8Array | null): arrow.Data =>
      arrow.makeData({ type: TIMESTAMP, length: n, data: new BigInt64Array(this.times[k]!.buffer, 0, n), ...(valid ? { nullBitmap: valid.subarray(0, (n + 7) >> 3) } : {}) });
    const flagList = arrow.makeData({
      type: new arrow.List(new arrow.Field('element', new arrow.Utf8(), false)),
      length: n,
      valueOffsets: this.flagOffsets.subarray(0, n + 1),
      child: this.flagValues.data(),
    });
    const sc = this.streamCount;
    const streamChild = arrow.makeData({
      type: STREAM_STRUCT,
      length: sc,
      children: [this.streamNames.data(), arrow.makeData({ type: new arrow.Int64(), length: sc, data: new BigInt64Array(this.streamSizes.buffer, 0, sc) })],
    });
    const streamList = arrow.makeData({ type: new arrow.List(new arrow.Field('element', STREAM_STRUCT, false)), length: n, valueOffsets: this.streamOffsets.subarray(0, n + 1), child: streamChild });
    const columns: Record<string, arrow.Data> = {
      source: sourceColumn,
      record: uint32(this.record),
      sequence: uint32(this.sequence),
      parent: int64(this.parent),
      path: this.path.data(),
      name: this.name.data(),
      size: int64(this.size),
      allocated: int64(this.allocated),
      isDir: bool(this.isDir),
      deleted: bool(this.deleted),
      flags: flagList,
    };
    TIME_COLUMNS.forEach((c, k) => (columns[`si_${c}`] = time(k, this.siValid)));
    TIME_COLUMNS.forEach((c, k) => (columns[`fn_${c}`] = time(4 + k, null)));
    columns.links = uint32(this.links);
    columns.streams = streamList;
    const fields = Object.entries(columns).map(([name, data]) => new arrow.Field(name, data.type, name.startsWith('si_')));
    const schema = new arrow.Schema(fields);
    const batch = new arrow.RecordBatch(schema, arrow.makeData({ type: new arrow.Struct(fields), length: n, children: Object.values(columns) }));
    return new arrow.Table(schema, [batch]);
  }

  private addStream(nameUnits: Uint16Array, start: number, end: number, size: number): void {
    if (this.streamCount * 2 + 2 > this.streamSizes.length) {
      const grown = new Int32Array(this.streamSizes.length * 2);
      grown.set(this.streamSizes);
      this.streamSizes = grown;
    }
    this.streamNames.units(nameUnits, start, end);
    this.streamNames.end();
    setInt64(this.streamSizes, this.streamCount++, size);
  }

  /** Doubles the room for rows (a record with many links and streams can overfill a batch). */
  private grow(): void {
    const c = this.capacity * 2;
    const more = <T extends Uint32Array | Int32Array | Uint8Array>(a: T, size: number): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.record = more(this.record, c);
    this.sequence = more(this.sequence, c);
    this.links = more(this.links, c);
    this.parent = more(this.parent, 2 * c);
    this.size = more(this.size, 2 * c);
    this.allocated = more(this.allocated, 2 * c);
    this.isDir = more(this.isDir, (c + 7) >> 3);
    this.deleted = more(this.deleted, (c + 7) >> 3);
    this.siValid = more(this.siValid, (c + 7) >> 3);
    this.times = this.times.map((t) => more(t, 2 * c));
    this.flagOffsets = more(this.flagOffsets, c + 1);
    this.streamOffsets = more(this.streamOffsets, c + 1);
    this.capacity = c;
  }

  /** Adds one row (the JSONL row's fields, in the same form). */
  add(index: MftIndex, row: RowRef): void {
    if (this.n === this.capacity) this.grow();
    const i = this.n++;
    const t = index.table;
    const names = index.names;
    const streams = index.streams;
    const r = row.record;
    this.record[i] = r;
    this.sequence[i] = t.sequence[r]!;
    this.links[i] = t.links[r]!;
    setInt64(this.parent, i, names.parent[row.name]!);
    const { size, allocated } = rowSize(index, row);
    setInt64(this.size, i, size);
    setInt64(this.allocated, i, allocated);
    setBit(this.isDir, i, isDirectory(t, r));
    setBit(this.deleted, i, !isInUse(t, r));
    // path, then name (the last path component, or the root's empty name)
    const path = this.path;
    const paths = index.paths;
    const cs = names.charStart[row.name]!;
    const ce = cs + names.charLength[row.name]!;
    let nameFrom = -1;
    if (row.parentDir === ROW_ROOT) path.units(SLASH, 0, 1);
    else if (row.parentDir === ROW_SELF) {
      paths.dirUnits(r);
      path.units(paths.units, paths.start, paths.end);
    } else {
      if (row.parentDir === ROW_ORPHANED) {
        path.units(ORPHAN_UNITS, 0, ORPHAN_UNITS.length);
        path.units(SLASH, 0, 1);
      } else if (row.parentDir === this.lastDir) path.raw(path.bytes, this.lastDirAt, this.lastDirEnd);
      else {
        const at = path.at;
        paths.dirUnits(row.parentDir);
        path.units(paths.units, paths.start, paths.end);
        path.units(SLASH, 0, 1);
        this.lastDir = row.parentDir;
        this.lastDirAt = at;
        this.lastDirEnd = path.at;
      }
      nameFrom = path.at;
      path.units(names.chars, cs, ce);
    }
    if (row.stream >= 0) {
      const ss = streams.charStart[row.stream]!;
      path.units(COLON, 0, 1);
      path.units(streams.chars, ss, ss + streams.charLength[row.stream]!);
    }
    if (nameFrom >= 0) this.name.raw(path.bytes, nameFrom, path.at);
    else {
      if (row.parentDir !== ROW_ROOT) this.name.units(names.chars, cs, ce);
      if (row.stream >= 0) {
        const ss = streams.charStart[row.stream]!;
        this.name.units(COLON, 0, 1);
        this.name.units(streams.chars, ss, ss + streams.charLength[row.stream]!);
      }
    }
    path.end();
    this.name.end();
    // flags
    const mask = flagMask(index, row);
    for (let k = 0; k < FLAG_BYTES.length; k++) {
      if (!(mask & (1 << k))) continue;
      this.flagValues.raw(FLAG_BYTES[k]!);
      this.flagValues.end();
    }
    this.flagOffsets[i + 1] = this.flagValues.length;
    // times: si (null without $STANDARD_INFORMATION), then fn
    if (t.present[r]! & Present.STANDARD_INFORMATION) {
      setBit(this.siValid, i, true);
      const si = t.siTimes;
      for (let k = 0; k < 4; k++) setFiletimeMicros(this.times[k]!, i, si[r * 8 + 2 * k]!, si[r * 8 + 2 * k + 1]!);
    } else for (let k = 0; k < 4; k++) setInt64(this.times[k]!, i, 0);
    const fn = names.times;
    for (let k = 0; k < 4; k++) setFiletimeMicros(this.times[4 + k]!, i, fn[row.name * 8 + 2 * k]!, fn[row.name * 8 + 2 * k + 1]!);
    // the record's named streams
    const sr = index.streamsByRecord;
    for (let k = sr.start[r]!; k < sr.start[r + 1]!; k++) {
      const s = sr.order[k]!;
      const ss = streams.charStart[s]!;
      this.addStream(streams.chars, ss, ss + streams.charLength[s]!, streams.parent[s]!);
    }
    this.streamOffsets[i + 1] = this.streamCount;
  }
}

/**
 * Writes every row of the index as one Parquet file through `sink` (called with
 * each piece of the file in order; may return a promise to wait for a slow
 * destination). Returns the row totals.
 */
/** The batches of an index's rows, and the totals counted while they are built. */
export function rowBatches(index: MftIndex, options: RowOptions, source: string, settings: ParquetSettings): { nextTable: () => arrow.Table | null; totals: RowTotals } {
  const totals = emptyTotals();
  const batchRows = Math.max(1, Math.min(settings.batchRows ?? BATCH_ROWS, settings.rowGroupRows ?? ROW_GROUP_ROWS));
  const batch = new Batch(batchRows + 64);
  const sourceBytes = new TextEncoder().encode(wellFormed(source));
  const count = index.table.count;
  let from = 0;
  const visit = (row: RowRef): void => {
    batch.add(index, row);
    countRow(index, row, totals);
  };
  let emitted = false;
  /** The next batch of rows; null at the end (after at least one table, which carries the schema). */
  const nextTable = (): arrow.Table | null => {
    checkAborted(settings.signal);
    batch.reset();
    // A record adds at most a few rows: stop taking records when the batch is nearly full.
    while (from < count && batch.n < batchRows) {
      const to = Math.min(count, from + Math.max(1, Math.min(256, (batchRows - batch.n) >> 3)));
      forEachRow(index, options, from, to, visit);
      from = to;
    }
    if (batch.n === 0 && emitted) return null;
    emitted = true;
    return batch.toTable(sourceBytes);
  };
  return { nextTable, totals };
}

/**
 * Writes every row of the index as one Parquet file through `sink` (called with
 * each piece of the file in order; may return a promise to wait for a slow
 * destination), encoding in this thread. Returns the row totals.
 */
export async function writeParquetRows(index: MftIndex, options: RowOptions, source: string, sink: (bytes: Uint8Array) => void | Promise<void>, settings: ParquetSettings = {}): Promise<RowTotals> {
  const { nextTable, totals } = rowBatches(index, options, source, settings);
  await writeParquetStream(nextTable, sink, { rowGroupRows: settings.rowGroupRows, dictionaryColumns: DICTIONARY_COLUMNS, deltaColumns: DELTA_COLUMNS });
  return totals;
}

/**
 * Writes the Parquet file `out` whole or not at all: under a temporary name renamed
 * into place at the end, deleted on an error or Ctrl-C (a half-written Parquet file
 * has no footer and no reader can open it). Encoded on a second thread when there is
 * a second core (../parquet/write-stream.ts).
 */
export async function writeParquetFile(index: MftIndex, options: RowOptions, source: string, out: string, settings: ParquetSettings = {}): Promise<RowTotals> {
  const { nextTable, totals } = rowBatches(index, options, source, settings);
  await writeAtomically(out, (file) => writeParquetToFd(nextTable, file.fd, out, { rowGroupRows: settings.rowGroupRows, dictionaryColumns: DICTIONARY_COLUMNS, deltaColumns: DELTA_COLUMNS }, settings.encoder), { signal: settings.signal, durable: false });
  return totals;
}
