/**
 * The Sleuth Kit body file (the input of `mactime`, TSK 3.0+ layout):
 * MD5|name|inode|mode_as_string|UID|GID|size|atime|mtime|ctime|crtime, times in
 * Unix seconds from $STANDARD_INFORMATION (ctime = MFT-entry change time), as
 * `fls -m` writes them for NTFS. `|` and control characters in names are escaped
 * as \xNN so each line keeps eleven fields.
 */
import { wellFormed, type ByteWriter } from './byte-writer.js';
import { filetimeToUnixSeconds } from './filetime.js';
import { rowPath, rowSize, type RowFormatter } from './format-rows.js';
import { isDirectory, type MftIndex, type RowRef } from './mft-index.js';
import { Present } from './record-table.js';

const UNSAFE = /[|\u0000-\u001f\u007f\\]/g;

function escapeField(s: string): string {
  return wellFormed(s).replace(UNSAFE, (c) => (c === '\\' ? '\\\\' : '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0')));
}

export const bodyfileFormatter: RowFormatter = {
  row(w: ByteWriter, index: MftIndex, row: RowRef): void {
    const t = index.table;
    const r = row.record;
    const hasSi = (t.present[r]! & Present.STANDARD_INFORMATION) !== 0;
    const times = hasSi ? t.siTimes : index.names.times;
    const slot = hasSi ? r * 8 : row.name * 8;
    const sec = (k: number): number => filetimeToUnixSeconds(times[slot + 2 * k]!, times[slot + 2 * k + 1]!);
    const mode = isDirectory(t, r) && row.stream < 0 ? 'd/drwxrwxrwx' : 'r/rrwxrwxrwx';
    // created=0, modified=1, mftModified=2, accessed=3
    w.text(`0|${escapeField(rowPath(index, row))}|${r}-${t.sequence[r]}|${mode}|0|0|${rowSize(index, row).size}|${sec(3)}|${sec(1)}|${sec(2)}|${sec(0)}\n`);
  },
};
