/**
 * JSON Lines: one object per row, keys in the documented order (issue 6, Output):
 * record, sequence, parent, path, name, size, allocated, isDir, deleted, flags, si,
 * fn, links, streams. Times are ISO 8601 UTC with 100 ns precision; `si` is null for
 * a record without $STANDARD_INFORMATION.
 */
import { ascii, type ByteWriter } from './byte-writer.js';
import { writeFiletimeIso } from './filetime.js';
import { flagsOf, rowName, rowPath, rowSize, type RowFormatter } from './format-rows.js';
import { isDirectory, type MftIndex, type Row } from './mft-index.js';
import { isInUse } from './paths.js';
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
const FLAG_BYTES = new Map<string, Uint8Array>();
function flagBytes(flag: string): Uint8Array {
  let b = FLAG_BYTES.get(flag);
  if (!b) FLAG_BYTES.set(flag, (b = ascii(`"${flag}"`)));
  return b;
}

/** Writes {created, modified, mftModified, accessed} from times[slot..slot+8). */
export function writeTimes(w: ByteWriter, times: Uint32Array, slot: number): void {
  w.ensure(160);
  const keys = [K.created, K.modified, K.mftModified, K.accessed];
  for (let k = 0; k < 4; k++) {
    w.buf.set(keys[k]!, w.pos);
    w.pos += keys[k]!.length;
    w.pos = writeFiletimeIso(w.buf, w.pos, times[slot + 2 * k]!, times[slot + 2 * k + 1]!);
  }
  w.buf.set(K.timesEnd, w.pos);
  w.pos += K.timesEnd.length;
}

export const jsonlFormatter: RowFormatter = {
  row(w: ByteWriter, index: MftIndex, row: Row): void {
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
    w.jsonString(rowPath(index, row));
    w.raw(K.name);
    w.jsonString(rowName(index, row));
    const { size, allocated } = rowSize(index, row);
    w.raw(K.size);
    w.number(size);
    w.raw(K.allocated);
    w.number(allocated);
    w.raw(isDirectory(t, r) ? K.isDirTrue : K.isDirFalse);
    w.raw(isInUse(t, r) ? K.deletedFalse : K.deletedTrue);
    w.raw(K.flags);
    const flags = flagsOf(index, row);
    for (let i = 0; i < flags.length; i++) {
      if (i > 0) w.byte(0x2c);
      w.raw(flagBytes(flags[i]!));
    }
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
      w.jsonString(index.streams.name(s));
      w.raw(K.streamSize);
      w.number(index.streams.parent[s]!);
      w.byte(0x7d);
    }
    w.raw(K.end);
  },
};
