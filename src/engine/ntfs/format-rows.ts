/**
 * What every output format shares: the row fields derived from the index (flags,
 * names with stream suffixes, sizes), and the driver that walks the records in
 * batches, lets a format write each row into a ByteWriter, and hands full buffers
 * to the caller's sink (which may wait, e.g. for a drained pipe). The engine never
 * prints: the sink decides where bytes go.
 */
import { ByteWriter } from './byte-writer.js';
import { forEachRow, isDirectory, rowFilePath, ROW_ROOT, type MftIndex, type RowRef, type RowOptions } from './mft-index.js';
import { RecordStatus } from './mft-record.js';
import { AttributeFlag } from './attributes/attribute-header.js';
import { FileAttribute } from './attributes/x10-standard-information.js';
import { Present } from './record-table.js';
import { isInUse } from './paths.js';

export const OUTPUT_FORMATS = ['jsonl', 'csv', 'bodyfile'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface RowFormatter {
  header?(w: ByteWriter): void;
  row(w: ByteWriter, index: MftIndex, row: RowRef): void;
}

export interface RowTotals {
  rows: number;
  files: number;
  dirs: number;
  orphans: number;
  deleted: number;
  streams: number;
}

export function emptyTotals(): RowTotals {
  return { rows: 0, files: 0, dirs: 0, orphans: 0, deleted: 0, streams: 0 };
}

/** Flag names in output order; bit k of a flag mask is FLAG_NAMES[k]. */
export const FLAG_NAMES = ['readonly', 'hidden', 'system', 'archive', 'sparse', 'compressed', 'encrypted', 'reparse', 'orphan', 'torn'] as const;

/** The row's flags as a bit mask over FLAG_NAMES (no allocation). */
export function flagMask(index: MftIndex, row: RowRef): number {
  const t = index.table;
  const r = row.record;
  const attrs = t.present[r]! & Present.STANDARD_INFORMATION ? t.fileAttributes[r]! : 0;
  const data = row.stream >= 0 ? index.streams.namespace[row.stream]! : t.dataFlags[r]!;
  let m = 0;
  if (attrs & FileAttribute.READONLY) m |= 1;
  if (attrs & FileAttribute.HIDDEN) m |= 2;
  if (attrs & FileAttribute.SYSTEM) m |= 4;
  if (attrs & FileAttribute.ARCHIVE) m |= 8;
  if (data & AttributeFlag.SPARSE || attrs & FileAttribute.SPARSE) m |= 16;
  if (data & AttributeFlag.COMPRESSED || attrs & FileAttribute.COMPRESSED) m |= 32;
  if (data & AttributeFlag.ENCRYPTED || attrs & FileAttribute.ENCRYPTED) m |= 64;
  if (t.present[r]! & Present.REPARSE_POINT || attrs & FileAttribute.REPARSE) m |= 128;
  if (row.orphan) m |= 256;
  if (t.status[r] === RecordStatus.TORN) m |= 512;
  return m;
}

/** The flag names of a row, in a fixed order. */
export function flagsOf(index: MftIndex, row: RowRef): string[] {
  const m = flagMask(index, row);
  return FLAG_NAMES.filter((_, k) => m & (1 << k));
}

export function rowName(index: MftIndex, row: RowRef): string {
  const base = row.parentDir === ROW_ROOT ? '' : index.names.name(row.name);
  return row.stream >= 0 ? base + ':' + index.streams.name(row.stream) : base;
}

export function rowPath(index: MftIndex, row: RowRef): string {
  const path = rowFilePath(index, row);
  return row.stream >= 0 ? path + ':' + index.streams.name(row.stream) : path;
}

export function rowSize(index: MftIndex, row: RowRef): { size: number; allocated: number } {
  if (row.stream >= 0) {
    const s = index.streams;
    return { size: s.parent[row.stream]!, allocated: s.times[row.stream * 8]! + s.times[row.stream * 8 + 1]! * 0x100000000 };
  }
  const t = index.table;
  if (!(t.present[row.record]! & Present.DATA)) return { size: 0, allocated: 0 };
  return { size: t.size[row.record]!, allocated: t.allocated[row.record]! };
}

/**
 * Writes every row of the index with `formatter`; calls `sink` with each full
 * buffer (at least `flushBytes`) and the rest at the end. Returns the row totals.
 * Rows are visited a block of records at a time so the sink can be awaited (a
 * slow pipe) between blocks without a per-row promise.
 */
export async function writeRows(
  index: MftIndex,
  options: RowOptions,
  formatter: RowFormatter,
  sink: (bytes: Uint8Array) => void | Promise<void>,
  flushBytes = 1 << 21,
  /** The sink is done with each buffer when it returns (synchronous writes): reuse one buffer. */
  reuseBuffer = false,
): Promise<RowTotals> {
  const w = new ByteWriter(flushBytes + (1 << 20));
  const totals = emptyTotals();
  formatter.header?.(w);
  const count = index.table.count;
  const visit = (row: RowRef): void => {
    formatter.row(w, index, row);
    countRow(index, row, totals);
  };
  for (let from = 0; from < count; ) {
    // Records until the buffer is full: each block ends with at most a few rows of one record past flushBytes.
    const to = Math.min(count, from + 256);
    forEachRow(index, options, from, to, visit);
    from = to;
    if (w.pos >= flushBytes) {
      if (reuseBuffer) {
        await sink(w.buf.subarray(0, w.pos));
        w.rewind();
      } else await sink(w.take());
    }
  }
  if (w.pos > 0) await sink(w.take());
  return totals;
}

/** Counts rows without formatting them (what `mft bench` measures: the full index with paths). */
export function countRows(index: MftIndex, options: RowOptions): RowTotals {
  const totals = emptyTotals();
  forEachRow(index, options, 0, index.table.count, (row) => countRow(index, row, totals));
  return totals;
}

/** Adds one row to the totals. */
export function countRow(index: MftIndex, row: RowRef, totals: RowTotals): void {
  totals.rows++;
  if (row.stream >= 0) {
    totals.streams++;
    return;
  }
  if (isDirectory(index.table, row.record)) totals.dirs++;
  else totals.files++;
  if (row.orphan) totals.orphans++;
  if (!isInUse(index.table, row.record)) totals.deleted++;
}
