/**
 * The Sleuth Kit body file (the input of `mactime`, TSK 3.0+ layout):
 * MD5|name|inode|mode_as_string|UID|GID|size|atime|mtime|ctime|crtime, written as
 * `fls -r -m / -p` writes it for NTFS:
 * - each path gets two lines: `NAME ($FILE_NAME)` with that $FILE_NAME's four times
 *   (its size field is the attribute's length, 66 + 2 × name length, as fls shows),
 *   then `NAME` with the $STANDARD_INFORMATION times (ctime = MFT-entry change time);
 *   a named stream row is `NAME:STREAM` with the record's times;
 * - the inode field is INODE-TYPE-ID (128 = $DATA, 144 = $INDEX_ROOT of a
 *   directory, 48 = $FILE_NAME) so it can be given to `icat` as it is; a record
 *   without the attribute gets the bare record number;
 * - a deleted record's lines end in ` (deleted)` and its mode starts with `-/`;
 *   permissions follow the DOS flags as TSK reads them (no read bits when
 *   read-only, no write bits when hidden);
 * - a zero FILETIME (never set) is 0, not the Unix time of 1601.
 * `|` and control characters in names are escaped as \xNN so each line keeps eleven fields.
 */
import { wellFormed, type ByteWriter } from './byte-writer.js';
import { filetimeToUnixSeconds } from './filetime.js';
import { rowPath, rowSize, type RowFormatter } from './format-rows.js';
import { isDirectory, type MftIndex, type RowRef } from './mft-index.js';
import { Present } from './record-table.js';
import { isInUse } from './paths.js';
import { AttributeType } from './attributes/attribute-header.js';
import { FileAttribute } from './attributes/x10-standard-information.js';
import { FILE_NAME_FIXED_LENGTH } from './attributes/x30-file-name.js';

const UNSAFE = /[|\u0000-\u001f\u007f\\]/g;

function escapeField(s: string): string {
  return wellFormed(s).replace(UNSAFE, (c) => (c === '\\' ? '\\\\' : '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0')));
}

/** Unix seconds of the FILETIME at times[slot + 2k]; 0 for a FILETIME of 0 (unset). */
function seconds(times: Uint32Array, slot: number, k: number): number {
  const lo = times[slot + 2 * k]!;
  const hi = times[slot + 2 * k + 1]!;
  return lo === 0 && hi === 0 ? 0 : filetimeToUnixSeconds(lo, hi);
}

/** `|atime|mtime|ctime|crtime` from four FILETIMEs stored created, modified, mftModified, accessed. */
function timeFields(times: Uint32Array, slot: number): string {
  return `|${seconds(times, slot, 3)}|${seconds(times, slot, 1)}|${seconds(times, slot, 2)}|${seconds(times, slot, 0)}`;
}

export const bodyfileFormatter: RowFormatter = {
  row(w: ByteWriter, index: MftIndex, row: RowRef): void {
    const t = index.table;
    const r = row.record;
    const deleted = isInUse(t, r) ? '' : ' (deleted)';
    const dir = isDirectory(t, r) && row.stream < 0;
    // TSK's reading of the DOS flags: read unless read-only, write unless hidden, execute always.
    const attrs = t.present[r]! & Present.STANDARD_INFORMATION ? t.fileAttributes[r]! : 0;
    const triplet = `${attrs & FileAttribute.READONLY ? '-' : 'r'}${attrs & FileAttribute.HIDDEN ? '-' : 'w'}x`;
    const permissions = triplet + triplet + triplet;
    const mode = `${deleted ? '-' : dir ? 'd' : 'r'}/${dir ? 'd' : 'r'}${permissions}`;
    const path = escapeField(rowPath(index, row));
    const names = index.names;
    if (row.stream < 0) {
      // The $FILE_NAME line of this path (fls writes it first).
      const fnInode = `${r}-${AttributeType.FILE_NAME}-${names.attributeId[row.name]!}`;
      const fnSize = FILE_NAME_FIXED_LENGTH + 2 * names.charLength[row.name]!;
      w.text(`0|${path} ($FILE_NAME)${deleted}|${fnInode}|${mode}|0|0|${fnSize}${timeFields(names.times, row.name * 8)}\n`);
    }
    const hasSi = (t.present[r]! & Present.STANDARD_INFORMATION) !== 0;
    const times = hasSi ? t.siTimes : names.times;
    const slot = hasSi ? r * 8 : row.name * 8;
    let inode: string;
    if (row.stream >= 0) inode = `${r}-${AttributeType.DATA}-${index.streams.attributeId[row.stream]!}`;
    else if (dir && t.present[r]! & Present.INDEX_ROOT) inode = `${r}-${AttributeType.INDEX_ROOT}-${t.indexRootAttributeId[r]!}`;
    else if (!dir && t.present[r]! & Present.DATA) inode = `${r}-${AttributeType.DATA}-${t.dataAttributeId[r]!}`;
    else inode = String(r);
    w.text(`0|${path}${deleted}|${inode}|${mode}|0|0|${rowSize(index, row).size}${timeFields(times, slot)}\n`);
  },
};
