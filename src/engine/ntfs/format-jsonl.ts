/**
 * JSON Lines: one object per row, keys in the documented order (issue 6, Output):
 * record, sequence, parent, path, name, size, allocated, isDir, deleted, flags, si,
 * fn, links, streams. Times are ISO 8601 UTC with 100 ns precision; `si` is null for
 * a record without $STANDARD_INFORMATION.
 */
import { ConstBytes, type ByteWriter } from './byte-writer.js';
import { writeFiletimeIso } from './filetime.js';
import { FLAG_NAMES, flagMask, rowSize, type RowFormatter } from './format-rows.js';
import { isDirectory, ROW_ORPHANED, ROW_ROOT, ROW_SELF, type MftIndex, type RowRef } from './mft-index.js';
import { isInUse, MAX_PATH_UNITS, ORPHAN_DIR } from './paths.js';
import { Present } from './record-table.js';

const K = {
  record: new ConstBytes('{"record":'),
  sequence: new ConstBytes(',"sequence":'),
  parent: new ConstBytes(',"parent":'),
  path: new ConstBytes(',"path":"'),
  name: new ConstBytes('","name":"'),
  size: new ConstBytes('","size":'),
  allocated: new ConstBytes(',"allocated":'),
  isDirTrue: new ConstBytes(',"isDir":true'),
  isDirFalse: new ConstBytes(',"isDir":false'),
  deletedTrue: new ConstBytes(',"deleted":true'),
  deletedFalse: new ConstBytes(',"deleted":false'),
  flags: new ConstBytes(',"flags":['),
  si: new ConstBytes('],"si":'),
  fn: new ConstBytes(',"fn":'),
  created: new ConstBytes('{"created":"'),
  modified: new ConstBytes('","modified":"'),
  mftModified: new ConstBytes('","mftModified":"'),
  accessed: new ConstBytes('","accessed":"'),
  timesEnd: new ConstBytes('"}'),
  nul: new ConstBytes('null'),
  links: new ConstBytes(',"links":'),
  streams: new ConstBytes(',"streams":['),
  streamName: new ConstBytes('{"name":"'),
  streamSize: new ConstBytes('","size":'),
  end: new ConstBytes(']}\n'),
  // Runs of constants that always follow each other, written as one
  siOpen: new ConstBytes('],"si":{"created":"'),
  siNullFnOpen: new ConstBytes('],"si":null,"fn":{"created":"'),
  siCloseFnOpen: new ConstBytes('"},"fn":{"created":"'),
  fnCloseLinks: new ConstBytes('"},"links":'),
  noStreamsEnd: new ConstBytes(',"streams":[]}\n'),
};
const TIME_KEYS = [K.created, K.modified, K.mftModified, K.accessed];
const EMPTY = new ConstBytes('');
/** `,"isDir":…,"deleted":…,"flags":[` by (isDir << 1 | deleted). */
const DIR_DELETED_FLAGS = [0, 1, 2, 3].map((v) => new ConstBytes(`,"isDir":${(v & 2) !== 0},"deleted":${(v & 1) !== 0},"flags":[`));
const ORPHAN_BYTES = new ConstBytes(ORPHAN_DIR);

/** `"a","b"` bytes of each flag mask, built on first use (at most 2^10 masks). */
const FLAG_LISTS: (ConstBytes | undefined)[] = [];
function flagListBytes(mask: number): ConstBytes {
  let b = FLAG_LISTS[mask];
  if (!b) FLAG_LISTS[mask] = b = new ConstBytes(FLAG_NAMES.filter((_, k) => mask & (1 << k)).map((f) => `"${f}"`).join(','));
  return b;
}

/**
 * The last two distinct timestamps written and where (a record's eight times are
 * usually one or two values): a repeat is a copy within the output buffer.
 */
const seenLo = [-1, -1];
const seenHi = [-1, -1];
const seenAt = [0, 0];
const seenLength = [0, 0];
let seenEpoch = -1;
let seenNext = 0;

/**
 * Writes the four times from times[slot..slot+8) as `created":"…","modified":"…",
 * "mftModified":"…","accessed":"…`, between `open` (which ends with `{"created":"`)
 * and `close` (which starts with `"}`).
 */
export function writeTimes(w: ByteWriter, times: Uint32Array, slot: number, open: ConstBytes, close: ConstBytes): void {
  w.ensure(200);
  if (w.epoch !== seenEpoch) {
    seenEpoch = w.epoch;
    seenLo[0] = seenLo[1] = -1;
  }
  for (let k = 0; k < 4; k++) {
    w.constant(k === 0 ? open : TIME_KEYS[k]!);
    const lo = times[slot + 2 * k]!;
    const hi = times[slot + 2 * k + 1]!;
    const hit = lo === seenLo[0] && hi === seenHi[0] ? 0 : lo === seenLo[1] && hi === seenHi[1] ? 1 : -1;
    if (hit >= 0) w.repeat(seenAt[hit]!, seenLength[hit]!);
    else {
      const at = w.pos;
      w.pos = writeFiletimeIso(w.buf, at, lo, hi);
      const s = seenNext;
      seenNext ^= 1;
      seenLo[s] = lo;
      seenHi[s] = hi;
      seenAt[s] = at;
      seenLength[s] = w.pos - at;
    }
  }
  w.constant(close);
}

/**
 * Rows come in record order, and files of one directory mostly sit together, so
 * the last directory prefix written is remembered (where, in the current buffer)
 * and copied rather than re-encoded; the name, written in the path first, is copied
 * into the `name` field the same way.
 */
let prefixDir = -1;
let prefixEpoch = -1;
let prefixAt = 0;
let prefixLength = 0;
let nameAt = -1;
let nameLength = 0;

/** The row's path (`/` for the root) from the cached directory prefix and the name's units. */
function writePath(w: ByteWriter, index: MftIndex, row: RowRef): void {
  const names = index.names;
  const paths = index.paths;
  nameAt = -1;
  if (row.parentDir === ROW_ROOT) w.byte(0x2f);
  else if (row.parentDir === ROW_SELF) {
    paths.dirUnits(row.record);
    w.jsonUnits(paths.units, paths.start, paths.end);
  } else {
    if (row.parentDir === ROW_ORPHANED) w.constant(ORPHAN_BYTES);
    else if (row.parentDir === prefixDir && w.epoch === prefixEpoch) w.repeat(prefixAt, prefixLength);
    else {
      paths.dirUnits(row.parentDir);
      const at = w.pos;
      w.jsonUnits(paths.units, paths.start, paths.end);
      prefixDir = row.parentDir;
      prefixEpoch = w.epoch;
      prefixAt = at;
      prefixLength = w.pos - at;
    }
    w.byte(0x2f);
    nameAt = w.pos;
    const cs = names.charStart[row.name]!;
    w.jsonUnits(names.chars, cs, cs + names.charLength[row.name]!);
  }
  if (row.stream >= 0) writeStreamSuffix(w, index, row.stream);
  if (nameAt >= 0) nameLength = w.pos - nameAt;
}

function writeStreamSuffix(w: ByteWriter, index: MftIndex, s: number): void {
  w.byte(0x3a);
  const cs = index.streams.charStart[s]!;
  w.jsonUnits(index.streams.chars, cs, cs + index.streams.charLength[s]!);
}

/** The `name` field: the bytes just written at the end of the path when there are some. */
function writeName(w: ByteWriter, index: MftIndex, row: RowRef, pathEpoch: number): void {
  if (nameAt >= 0 && w.epoch === pathEpoch) {
    w.repeat(nameAt, nameLength);
    return;
  }
  const names = index.names;
  if (row.parentDir !== ROW_ROOT) {
    const cs = names.charStart[row.name]!;
    w.jsonUnits(names.chars, cs, cs + names.charLength[row.name]!);
  }
  if (row.stream >= 0) writeStreamSuffix(w, index, row.stream);
}

export const jsonlFormatter: RowFormatter = {
  row(w: ByteWriter, index: MftIndex, row: RowRef): void {
    const t = index.table;
    const names = index.names;
    const r = row.record;
    w.constant(K.record);
    w.number(r);
    w.constant(K.sequence);
    w.number(t.sequence[r]!);
    w.constant(K.parent);
    w.number(names.parent[row.name]!);
    w.constant(K.path);
    // room for the whole path and name up front, so the buffer cannot move in between
    w.ensure(6 * (MAX_PATH_UNITS + 1024));
    const pathEpoch = w.epoch;
    writePath(w, index, row);
    w.constant(K.name);
    writeName(w, index, row, pathEpoch);
    w.constant(K.size);
    if (row.stream >= 0) {
      const { size, allocated } = rowSize(index, row);
      w.number(size);
      w.constant(K.allocated);
      w.number(allocated);
    } else if (t.present[r]! & Present.DATA) {
      w.number(t.size[r]!);
      w.constant(K.allocated);
      w.number(t.allocated[r]!);
    } else {
      w.byte(0x30);
      w.constant(K.allocated);
      w.byte(0x30);
    }
    w.constant(DIR_DELETED_FLAGS[(isDirectory(t, r) ? 2 : 0) | (isInUse(t, r) ? 0 : 1)]!);
    const mask = flagMask(index, row);
    if (mask !== 0) w.constant(flagListBytes(mask));
    if (t.present[r]! & Present.STANDARD_INFORMATION) {
      writeTimes(w, t.siTimes, r * 8, K.siOpen, K.siCloseFnOpen);
      writeTimes(w, names.times, row.name * 8, EMPTY, K.fnCloseLinks);
    } else writeTimes(w, names.times, row.name * 8, K.siNullFnOpen, K.fnCloseLinks);
    w.number(t.links[r]!);
    const ss = index.streamsByRecord;
    if (ss.start[r] === ss.start[r + 1]) {
      w.constant(K.noStreamsEnd);
      return;
    }
    w.constant(K.streams);
    for (let k = ss.start[r]!; k < ss.start[r + 1]!; k++) {
      const s = ss.order[k]!;
      if (k > ss.start[r]!) w.byte(0x2c);
      w.constant(K.streamName);
      const cs = index.streams.charStart[s]!;
      w.jsonUnits(index.streams.chars, cs, cs + index.streams.charLength[s]!);
      w.constant(K.streamSize);
      w.number(index.streams.parent[s]!);
      w.byte(0x7d);
    }
    w.constant(K.end);
  },
};
