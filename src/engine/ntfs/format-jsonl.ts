/**
 * JSON Lines: one object per row, keys in the documented order (issue 6, Output):
 * record, sequence, parent, path, name, size, allocated, isDir, deleted, flags, si,
 * fn, links, streams. Times are ISO 8601 UTC with 100 ns precision; `si` is null for
 * a record without $STANDARD_INFORMATION.
 */
import { ConstBytes, copyWords, putConstant, type ByteWriter } from './byte-writer.js';
import { filetimeSeconds28, ISO_28_HI_LIMIT, ISO_28_LENGTH, overwriteFiletimeIso28, writeFiletimeIsoWords } from './filetime.js';
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
const EMPTY = new ConstBytes('');
/** `,"isDir":…,"deleted":…,"flags":[` by (isDir << 1 | deleted). */
const DIR_DELETED_FLAGS = [0, 1, 2, 3].map((v) => new ConstBytes(`,"isDir":${(v & 2) !== 0},"deleted":${(v & 1) !== 0},"flags":[`));
const ORPHAN_BYTES = new ConstBytes(ORPHAN_DIR);
/** Bytes a row needs at most before its streams: path and name (6 bytes per unit at worst), times, numbers, constants. */
const ROW_ROOM = 6 * (MAX_PATH_UNITS + 1024) + 8192;

/** `"a","b"` bytes of each flag mask, built on first use (at most 2^10 masks). */
const FLAG_LISTS: (ConstBytes | undefined)[] = [];
function flagListBytes(mask: number): ConstBytes {
  let b = FLAG_LISTS[mask];
  if (!b) FLAG_LISTS[mask] = b = new ConstBytes(FLAG_NAMES.filter((_, k) => mask & (1 << k)).map((f) => `"${f}"`).join(','));
  return b;
}

/**
 * The last two distinct times written and where, valid within one ByteWriter epoch:
 * within a block the times are usually one or two values (created, then modified =
 * mftModified = accessed), and $FILE_NAME's often repeat $STANDARD_INFORMATION's, so
 * a repeat is a copy of bytes written earlier in the buffer. (Rows after the first
 * in a buffer mostly take writeTimeSection's faster path below.)
 */
const timeLo = new Float64Array([-1, -1]);
const timeHi = new Float64Array([-1, -1]);
const timeAt = new Int32Array(2);
let timeNext = 0;
let cacheEpoch = -1;

/** A time at dv[p..]: a copy of an equal time written before, else formatted (and remembered). Returns the offset after it. */
function putTime(w: ByteWriter, p: number, lo: number, hi: number): number {
  if (lo === timeLo[0] && hi === timeHi[0]) return copyWords(w.dv, p, timeAt[0]!, ISO_28_LENGTH);
  if (lo === timeLo[1] && hi === timeHi[1]) return copyWords(w.dv, p, timeAt[1]!, ISO_28_LENGTH);
  const end = writeFiletimeIsoWords(w.buf, w.dv, p, lo, hi);
  // Only the common 28-byte form is remembered (years 1601..9999; others are rare).
  if (end - p === ISO_28_LENGTH) {
    const s = timeNext;
    timeNext = s ^ 1;
    timeLo[s] = lo;
    timeHi[s] = hi;
    timeAt[s] = p;
  }
  return end;
}

/**
 * Writes the four times from times[slot..slot+8) as `created":"…","modified":"…",
 * "mftModified":"…","accessed":"…`, between `open` (which ends with `{"created":"`)
 * and `close` (which starts with `"}`).
 */
export function writeTimes(w: ByteWriter, times: Uint32Array, slot: number, open: ConstBytes, close: ConstBytes): void {
  w.ensure(320);
  if (w.epoch !== cacheEpoch) {
    cacheEpoch = w.epoch;
    timeLo[0] = timeLo[1] = -1;
  }
  const dv = w.dv;
  let p = putConstant(dv, w.pos, open);
  p = putTime(w, p, times[slot]!, times[slot + 1]!);
  p = putConstant(dv, p, K.modified);
  p = putTime(w, p, times[slot + 2]!, times[slot + 3]!);
  p = putConstant(dv, p, K.mftModified);
  p = putTime(w, p, times[slot + 4]!, times[slot + 5]!);
  p = putConstant(dv, p, K.accessed);
  p = putTime(w, p, times[slot + 6]!, times[slot + 7]!);
  w.pos = putConstant(dv, p, close);
}

/**
 * The whole time section of a row (`],"si":{…},"fn":{…},"links":`) has a fixed layout
 * when every time is in the years 1601..9999 (28 bytes each), and consecutive rows'
 * times mostly fall in the same second: so the last section written is copied whole
 * (one native copy) and only its times that differ are rewritten, most often just
 * their fractional digits. SLOTS_WITH_SI / SLOTS_WITHOUT_SI say where each time
 * lies in it. A section equal to the last one (e.g. files made together) is one copy.
 */
let sectionEpoch = -1;
let sectionAt = 0;
let sectionLength = 0;
/** 1: with si (eight times), 0: si null (four). */
let sectionWithSi = -1;
const sectionLo = new Float64Array(8);
const sectionHi = new Float64Array(8);
const sectionSeconds = new Float64Array(8);

/** Where each time lies in a section opened by `open`, with `middle` (closing si, opening fn) when si is present. */
function slotOffsets(open: ConstBytes, middle: ConstBytes | null): Int32Array {
  const keys = [K.modified, K.mftModified, K.accessed];
  const slots: number[] = [];
  let at = open.length;
  for (let block = 0; block < (middle ? 2 : 1); block++) {
    if (block === 1) at += middle!.length;
    for (let k = 0; k < 4; k++) {
      if (k > 0) at += keys[k - 1]!.length;
      slots.push(at);
      at += ISO_28_LENGTH;
    }
  }
  return Int32Array.from(slots);
}
const SLOTS_WITH_SI = slotOffsets(K.siOpen, K.siCloseFnOpen);
const SLOTS_WITHOUT_SI = slotOffsets(K.siNullFnOpen, null);

/** Time k of the section at out[at..]: rewritten in place when it differs from the last section's. */
function rewriteSlot(w: ByteWriter, at: number, k: number, lo: number, hi: number): void {
  if (lo === sectionLo[k] && hi === sectionHi[k]) return;
  sectionSeconds[k] = overwriteFiletimeIso28(w.buf, w.dv, at, lo, hi, sectionSeconds[k]!);
  sectionLo[k] = lo;
  sectionHi[k] = hi;
}

function rememberSlot(k: number, lo: number, hi: number): void {
  sectionLo[k] = lo;
  sectionHi[k] = hi;
  sectionSeconds[k] = filetimeSeconds28(lo, hi);
}

/** The row's si and fn times, from `],"si":` to `,"links":` inclusive. */
function writeTimeSection(w: ByteWriter, si: Uint32Array | null, siSlot: number, fn: Uint32Array, fnSlot: number): void {
  w.ensure(640);
  const withSi = si ? 1 : 0;
  let fits = true;
  for (let k = 1; k < 8; k += 2) {
    if (fn[fnSlot + k]! >= ISO_28_HI_LIMIT || (si !== null && si[siSlot + k]! >= ISO_28_HI_LIMIT)) fits = false;
  }
  const start = w.pos;
  if (fits && sectionEpoch === w.epoch && sectionWithSi === withSi) {
    // The last section, its differing times rewritten in place.
    w.buf.copyWithin(start, sectionAt, sectionAt + sectionLength);
    const slots = si ? SLOTS_WITH_SI : SLOTS_WITHOUT_SI;
    let k = 0;
    if (si) for (let j = 0; j < 8; j += 2, k++) rewriteSlot(w, start + slots[k]!, k, si[siSlot + j]!, si[siSlot + j + 1]!);
    for (let j = 0; j < 8; j += 2, k++) rewriteSlot(w, start + slots[k]!, k, fn[fnSlot + j]!, fn[fnSlot + j + 1]!);
    sectionAt = start;
    w.pos = start + sectionLength;
    return;
  }
  if (si) {
    writeTimes(w, si, siSlot, K.siOpen, K.siCloseFnOpen);
    writeTimes(w, fn, fnSlot, EMPTY, K.fnCloseLinks);
  } else writeTimes(w, fn, fnSlot, K.siNullFnOpen, K.fnCloseLinks);
  if (!fits) {
    sectionEpoch = -1;
    return;
  }
  sectionEpoch = w.epoch;
  sectionAt = start;
  sectionLength = w.pos - start;
  sectionWithSi = withSi;
  let k = 0;
  if (si) for (let j = 0; j < 8; j += 2, k++) rememberSlot(k, si[siSlot + j]!, si[siSlot + j + 1]!);
  for (let j = 0; j < 8; j += 2, k++) rememberSlot(k, fn[fnSlot + j]!, fn[fnSlot + j + 1]!);
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
    // Room for the whole row up to the streams (the path and name at their longest,
    // the times), so the buffer cannot move within it: constants go in unchecked.
    w.ensure(ROW_ROOM);
    w.pos = putConstant(w.dv, w.pos, K.record);
    w.number(r);
    w.pos = putConstant(w.dv, w.pos, K.sequence);
    w.number(t.sequence[r]!);
    w.pos = putConstant(w.dv, w.pos, K.parent);
    w.number(names.parent[row.name]!);
    w.pos = putConstant(w.dv, w.pos, K.path);
    const pathEpoch = w.epoch;
    writePath(w, index, row);
    w.pos = putConstant(w.dv, w.pos, K.name);
    writeName(w, index, row, pathEpoch);
    w.pos = putConstant(w.dv, w.pos, K.size);
    if (row.stream >= 0) {
      const { size, allocated } = rowSize(index, row);
      w.number(size);
      w.pos = putConstant(w.dv, w.pos, K.allocated);
      w.number(allocated);
    } else if (t.present[r]! & Present.DATA) {
      w.number(t.size[r]!);
      w.pos = putConstant(w.dv, w.pos, K.allocated);
      w.number(t.allocated[r]!);
    } else {
      w.byte(0x30);
      w.pos = putConstant(w.dv, w.pos, K.allocated);
      w.byte(0x30);
    }
    w.pos = putConstant(w.dv, w.pos, DIR_DELETED_FLAGS[(isDirectory(t, r) ? 2 : 0) | (isInUse(t, r) ? 0 : 1)]!);
    const mask = flagMask(index, row);
    if (mask !== 0) w.pos = putConstant(w.dv, w.pos, flagListBytes(mask));
    writeTimeSection(w, t.present[r]! & Present.STANDARD_INFORMATION ? t.siTimes : null, r * 8, names.times, row.name * 8);
    w.number(t.links[r]!);
    const ss = index.streamsByRecord;
    if (ss.start[r] === ss.start[r + 1]) {
      w.pos = putConstant(w.dv, w.pos, K.noStreamsEnd);
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
