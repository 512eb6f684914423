/**
 * JSON Lines: one object per row, keys in the documented order (issue 6, Output):
 * record, sequence, parent, path, name, size, allocated, isDir, deleted, flags, si,
 * fn, links, streams. Times are ISO 8601 UTC with 100 ns precision; `si` is null for
 * a record without $STANDARD_INFORMATION.
 */
import { ascii, type ByteWriter } from './byte-writer.js';
import { writeFiletimeIso } from './filetime.js';
import { FLAG_NAMES, flagMask, rowSize, type RowFormatter } from './format-rows.js';
import { isDirectory, ROW_ORPHANED, ROW_ROOT, ROW_SELF, type MftIndex, type RowRef } from './mft-index.js';
import { isInUse, ORPHAN_DIR } from './paths.js';
import { Present } from './record-table.js';

const K = {
  record: ascii('{"record":'),
  sequence: ascii(',"sequence":'),
  parent: ascii(',"parent":'),
  path: ascii(',"path":"'),
  name: ascii('","name":"'),
  size: ascii('","size":'),
  allocated: ascii(',"allocated":'),
  isDirTrue: ascii(',"isDir":true'),
  isDirFalse: ascii(',"isDir":false'),
  deletedTrue: ascii(',"deleted":true'),
  deletedFalse: ascii(',"deleted":false'),
  flags: ascii(',"flags":['),
  si: ascii('],"si":'),
  fn: ascii(',"fn":'),
  created: ascii('{"created":"'),
  modified: ascii('","modified":"'),
  mftModified: ascii('","mftModified":"'),
  accessed: ascii('","accessed":"'),
  timesEnd: ascii('"}'),
  nul: ascii('null'),
  links: ascii(',"links":'),
  streams: ascii(',"streams":['),
  streamName: ascii('{"name":"'),
  streamSize: ascii('","size":'),
  end: ascii(']}\n'),
};
const TIME_KEYS = [K.created, K.modified, K.mftModified, K.accessed];
const ORPHAN_BYTES = ascii(ORPHAN_DIR);

/** `"a","b"` bytes of each flag mask, built on first use (at most 2^10 masks). */
const FLAG_LISTS: (Uint8Array | undefined)[] = [];
function flagListBytes(mask: number): Uint8Array {
  let b = FLAG_LISTS[mask];
  if (!b) FLAG_LISTS[mask] = b = ascii(FLAG_NAMES.filter((_, k) => mask & (1 << k)).map((f) => `"${f}"`).join(','));
  return b;
}

/**
 * The last timestamp written and where (a record's eight times are usually one
 * value): a repeat is a 28-byte copy within the output buffer, not a reformat.
 */
let lastLo = -1;
let lastHi = -1;
let lastBuf: Buffer | null = null;
let lastAt = 0;
let lastLength = 0;

/** Writes {created, modified, mftModified, accessed} from times[slot..slot+8). */
export function writeTimes(w: ByteWriter, times: Uint32Array, slot: number): void {
  w.ensure(200);
  const b = w.buf;
  let p = w.pos;
  for (let k = 0; k < 4; k++) {
    const key = TIME_KEYS[k]!;
    b.set(key, p);
    p += key.length;
    const lo = times[slot + 2 * k]!;
    const hi = times[slot + 2 * k + 1]!;
    if (lo === lastLo && hi === lastHi && b === lastBuf) {
      b.copyWithin(p, lastAt, lastAt + lastLength);
      p += lastLength;
    } else {
      const end = writeFiletimeIso(b, p, lo, hi);
      lastLo = lo;
      lastHi = hi;
      lastBuf = b;
      lastAt = p;
      lastLength = end - p;
      p = end;
    }
  }
  b.set(K.timesEnd, p);
  w.pos = p + K.timesEnd.length;
}

/** The row's path (`/` for the root) straight from the cached directory prefix and the name's units. */
function writePath(w: ByteWriter, index: MftIndex, row: RowRef): void {
  const names = index.names;
  const paths = index.paths;
  if (row.parentDir === ROW_ROOT) w.byte(0x2f);
  else if (row.parentDir === ROW_SELF) {
    paths.dirUnits(row.record);
    w.jsonUnits(paths.units, paths.start, paths.end);
  } else {
    if (row.parentDir === ROW_ORPHANED) w.raw(ORPHAN_BYTES);
    else {
      paths.dirUnits(row.parentDir);
      w.jsonUnits(paths.units, paths.start, paths.end);
    }
    w.byte(0x2f);
    const cs = names.charStart[row.name]!;
    w.jsonUnits(names.chars, cs, cs + names.charLength[row.name]!);
  }
  if (row.stream >= 0) writeStreamSuffix(w, index, row.stream);
}

function writeStreamSuffix(w: ByteWriter, index: MftIndex, s: number): void {
  w.byte(0x3a);
  const cs = index.streams.charStart[s]!;
  w.jsonUnits(index.streams.chars, cs, cs + index.streams.charLength[s]!);
}

export const jsonlFormatter: RowFormatter = {
  row(w: ByteWriter, index: MftIndex, row: RowRef): void {
    const t = index.table;
    const names = index.names;
    const r = row.record;
    w.raw(K.record);
    w.number(r);
    w.raw(K.sequence);
    w.number(t.sequence[r]!);
    w.raw(K.parent);
    w.number(names.parent[row.name]!);
    w.raw(K.path);
    writePath(w, index, row);
    w.raw(K.name);
    if (row.parentDir !== ROW_ROOT) {
      const cs = names.charStart[row.name]!;
      w.jsonUnits(names.chars, cs, cs + names.charLength[row.name]!);
    }
    if (row.stream >= 0) writeStreamSuffix(w, index, row.stream);
    w.raw(K.size);
    if (row.stream >= 0) {
      const { size, allocated } = rowSize(index, row);
      w.number(size);
      w.raw(K.allocated);
      w.number(allocated);
    } else if (t.present[r]! & Present.DATA) {
      w.number(t.size[r]!);
      w.raw(K.allocated);
      w.number(t.allocated[r]!);
    } else {
      w.byte(0x30);
      w.raw(K.allocated);
      w.byte(0x30);
    }
    w.raw(isDirectory(t, r) ? K.isDirTrue : K.isDirFalse);
    w.raw(isInUse(t, r) ? K.deletedFalse : K.deletedTrue);
    w.raw(K.flags);
    const mask = flagMask(index, row);
    if (mask !== 0) w.raw(flagListBytes(mask));
    w.raw(K.si);
    if (t.present[r]! & Present.STANDARD_INFORMATION) writeTimes(w, t.siTimes, r * 8);
    else w.raw(K.nul);
    w.raw(K.fn);
    writeTimes(w, names.times, row.name * 8);
    w.raw(K.links);
    w.number(t.links[r]!);
    w.raw(K.streams);
    const ss = index.streamsByRecord;
    for (let k = ss.start[r]!; k < ss.start[r + 1]!; k++) {
      const s = ss.order[k]!;
      if (k > ss.start[r]!) w.byte(0x2c);
      w.raw(K.streamName);
      const cs = index.streams.charStart[s]!;
      w.jsonUnits(index.streams.chars, cs, cs + index.streams.charLength[s]!);
      w.raw(K.streamSize);
      w.number(index.streams.parent[s]!);
      w.byte(0x7d);
    }
    w.raw(K.end);
  },
};
