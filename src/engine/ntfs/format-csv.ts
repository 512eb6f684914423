/**
 * CSV (RFC 4180): the JSONL keys flattened into columns — `flags` joined with `|`,
 * `si.*`/`fn.*` one column per time, `streams` as `name:size` joined with `|`.
 * Fields holding a comma, quote or line break are quoted; lone surrogates in names
 * become U+FFFD (CSV has no escape for them).
 */
import { ascii, wellFormed, type ByteWriter } from './byte-writer.js';
import { writeFiletimeIsoWords } from './filetime.js';
import { flagsOf, rowName, rowPath, rowSize, type RowFormatter } from './format-rows.js';
import { isDirectory, type MftIndex, type RowRef } from './mft-index.js';
import { isInUse } from './paths.js';
import { Present } from './record-table.js';

export const CSV_COLUMNS = [
  'record', 'sequence', 'parent', 'path', 'name', 'size', 'allocated', 'isDir', 'deleted', 'flags',
  'si.created', 'si.modified', 'si.mftModified', 'si.accessed',
  'fn.created', 'fn.modified', 'fn.mftModified', 'fn.accessed',
  'links', 'streams',
] as const;

const HEADER = ascii(CSV_COLUMNS.join(',') + '\n');
const NEEDS_QUOTES = /[",\r\n]/;

function field(w: ByteWriter, s: string): void {
  const text = wellFormed(s);
  if (NEEDS_QUOTES.test(text)) w.text('"' + text.replace(/"/g, '""') + '"');
  else w.text(text);
}

function times(w: ByteWriter, t: Uint32Array | null, slot: number): void {
  w.ensure(200);
  for (let k = 0; k < 4; k++) {
    w.buf[w.pos++] = 0x2c;
    if (t) w.pos = writeFiletimeIsoWords(w.buf, w.dv, w.pos, t[slot + 2 * k]!, t[slot + 2 * k + 1]!);
  }
}

export const csvFormatter: RowFormatter = {
  header(w) {
    w.raw(HEADER);
  },
  row(w: ByteWriter, index: MftIndex, row: RowRef): void {
    const t = index.table;
    const r = row.record;
    const { size, allocated } = rowSize(index, row);
    w.text(`${r},${t.sequence[r]},${index.names.parent[row.name]},`);
    field(w, rowPath(index, row));
    w.byte(0x2c);
    field(w, rowName(index, row));
    w.text(`,${size},${allocated},${isDirectory(t, r)},${!isInUse(t, r)},${flagsOf(index, row).join('|')}`);
    times(w, t.present[r]! & Present.STANDARD_INFORMATION ? t.siTimes : null, r * 8);
    times(w, index.names.times, row.name * 8);
    w.text(`,${t.links[r]},`);
    const ss = index.streamsByRecord;
    const parts: string[] = [];
    for (let k = ss.start[r]!; k < ss.start[r + 1]!; k++) parts.push(`${index.streams.name(ss.order[k]!)}:${index.streams.parent[ss.order[k]!]}`);
    field(w, parts.join('|'));
    w.byte(0x0a);
  },
};
