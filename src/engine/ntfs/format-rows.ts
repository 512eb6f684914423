/**
 * What every output format shares: the row fields derived from the index (flags,
 * names with stream suffixes, sizes), and the driver that walks the records in
 * batches, lets a format write each row into a ByteWriter, and hands full buffers
 * to the caller's sink (which may wait, e.g. for a drained pipe). The engine never
 * prints: the sink decides where bytes go.
 */
import { ByteWriter } from './byte-writer.js';
import { collectRows, isDirectory, type MftIndex, type Row, type RowOptions } from './mft-index.js';
import { RecordStatus } from './mft-record.js';
import { AttributeFlag } from './attributes/attribute-header.js';
import { FileAttribute } from './attributes/x10-standard-information.js';
import { Present } from './record-table.js';
import { isInUse } from './paths.js';

export const OUTPUT_FORMATS = ['jsonl', 'csv', 'bodyfile'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface RowFormatter {
  header?(w: ByteWriter): void;
  row(w: ByteWriter, index: MftIndex, row: Row): void;
}

export interface RowTotals {
  rows: number;
  files: number;
  dirs: number;
  orphans: number;
  deleted: number;
  streams: number;
}

/** The flag names of a row, in a fixed order. */
export function flagsOf(index: MftIndex, row: Row): string[] {
  const t = index.table;
  const r = row.record;
  const attrs = t.present[r]! & Present.STANDARD_INFORMATION ? t.fileAttributes[r]! : 0;
  const data = row.stream >= 0 ? index.streams.namespace[row.stream]! : t.dataFlags[r]!;
  const flags: string[] = [];
  if (attrs & FileAttribute.READONLY) flags.push('readonly');
  if (attrs & FileAttribute.HIDDEN) flags.push('hidden');
  if (attrs & FileAttribute.SYSTEM) flags.push('system');
  if (attrs & FileAttribute.ARCHIVE) flags.push('archive');
  if (data & AttributeFlag.SPARSE || attrs & FileAttribute.SPARSE) flags.push('sparse');
  if (data & AttributeFlag.COMPRESSED || attrs & FileAttribute.COMPRESSED) flags.push('compressed');
  if ((data & AttributeFlag.ENCRYPTED) || attrs & FileAttribute.ENCRYPTED) flags.push('encrypted');
  if (t.present[r]! & Present.REPARSE_POINT || attrs & FileAttribute.REPARSE) flags.push('reparse');
  if (row.orphan) flags.push('orphan');
  if (t.status[r] === RecordStatus.TORN) flags.push('torn');
  return flags;
}

export function rowName(index: MftIndex, row: Row): string {
  const base = row.record === 5 && row.path === '/' ? '' : index.names.name(row.name);
  return row.stream >= 0 ? base + ':' + index.streams.name(row.stream) : base;
}

export function rowPath(index: MftIndex, row: Row): string {
  return row.stream >= 0 ? row.path + ':' + index.streams.name(row.stream) : row.path;
}

export function rowSize(index: MftIndex, row: Row): { size: number; allocated: number } {
  if (row.stream >= 0) {
    const s = index.streams;
    return { size: s.parent[row.stream]!, allocated: s.times[row.stream * 8]! + s.times[row.stream * 8 + 1]! * 0x100000000 };
  }
  const t = index.table;
  if (!(t.present[row.record]! & Present.DATA)) return { size: 0, allocated: 0 };
  return { size: t.size[row.record]!, allocated: t.allocated[row.record]! };
}

const BATCH = 4096;

/**
 * Writes every row of the index with `formatter`; calls `sink` with each full
 * buffer (at least `flushBytes`) and the rest at the end. Returns the row totals.
 */
export async function writeRows(
  index: MftIndex,
  options: RowOptions,
  formatter: RowFormatter,
  sink: (bytes: Uint8Array) => void | Promise<void>,
  flushBytes = 1 << 21,
): Promise<RowTotals> {
  const w = new ByteWriter(flushBytes + (1 << 16));
  const totals: RowTotals = { rows: 0, files: 0, dirs: 0, orphans: 0, deleted: 0, streams: 0 };
  formatter.header?.(w);
  const count = index.table.count;
  const rows: Row[] = [];
  for (let from = 0; from < count; from += BATCH) {
    rows.length = 0;
    collectRows(index, options, from, Math.min(count, from + BATCH), rows);
    for (const row of rows) {
      formatter.row(w, index, row);
      countRow(index, row, totals);
      if (w.pos >= flushBytes) await sink(w.take());
    }
  }
  if (w.pos > 0) await sink(w.take());
  return totals;
}

/** Counts rows without formatting them (what `mft bench` measures: the full index with paths). */
export function countRows(index: MftIndex, options: RowOptions): RowTotals {
  const totals: RowTotals = { rows: 0, files: 0, dirs: 0, orphans: 0, deleted: 0, streams: 0 };
  const rows: Row[] = [];
  for (let from = 0; from < index.table.count; from += BATCH) {
    rows.length = 0;
    collectRows(index, options, from, Math.min(index.table.count, from + BATCH), rows);
    for (const row of rows) countRow(index, row, totals);
  }
  return totals;
}

function countRow(index: MftIndex, row: Row, totals: RowTotals): void {
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
