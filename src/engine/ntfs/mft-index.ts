/**
 * Building the index from a scanned MFT: extension records are merged into their
 * base records (edge cases 5 and 9: names, streams and the unnamed $DATA's sizes
 * may live only in an extension), names are grouped per record, and rows — one per
 * path — are produced on demand with their full paths (paths.ts). Bad records are
 * counted and reported as warnings; `strict` callers turn them into errors.
 */
import { ErrorCode, type DiskkitWarning } from '../errors.js';
import { RecordFlag, RecordStatus, RECORD_STATUS_NAMES, ROOT_RECORD } from './mft-record.js';
import { FileNamespace } from './attributes/x30-file-name.js';
import { Present, type RecordTable } from './record-table.js';
import { NO_OWNER, type NameList } from './name-list.js';
import { regroupByOwner, type NameIndex } from './name-groups.js';
import { isInUse, ORPHAN_DIR, PathResolver } from './paths.js';
import type { MftLayout } from './mft-source.js';
import type { ScannedMft } from './scan-mft.js';

/** Warnings kept in full; beyond this only the counts grow. */
export const MAX_WARNINGS = 100;

export interface RecordCounts {
  /** Records read and examined. */
  records: number;
  inUse: number;
  empty: number;
  /** BAAD, torn, corrupt and garbage records. */
  badRecords: number;
  byStatus: Record<string, number>;
  /** Extension records whose base record is missing, reused or untrusted. */
  strayExtensions: number;
}

export interface MftIndex {
  layout: MftLayout;
  table: RecordTable;
  names: NameList;
  streams: NameList;
  namesByRecord: NameIndex;
  streamsByRecord: NameIndex;
  paths: PathResolver;
  counts: RecordCounts;
  warnings: DiskkitWarning[];
  /** Total number of warnings (the list is capped at MAX_WARNINGS). */
  warningCount: number;
}

export interface RowOptions {
  /** Include records whose in-use flag is clear (edge case 13). */
  deleted?: boolean;
  /** A row per named $DATA stream too. */
  streams?: boolean;
}

/** `RowRef.parentDir` of the root's own row. */
export const ROW_ROOT = -3;
/** `RowRef.parentDir` of a directory's own row (its path is its cached directory path). */
export const ROW_SELF = -2;
/** `RowRef.parentDir` of a row whose parent is unusable: it hangs under `/$Orphan`. */
export const ROW_ORPHANED = -1;

/** One output row, as indexes into the index (no strings): reused between rows. */
export interface RowRef {
  record: number;
  /** Index into index.names of the $FILE_NAME giving this path. */
  name: number;
  /** Index into index.streams for a stream row, else -1. */
  stream: number;
  /** The directory the path hangs from, or ROW_ROOT, ROW_SELF, ROW_ORPHANED. */
  parentDir: number;
  orphan: boolean;
}

/** A row with its path as a string (tests and callers that want one). */
export interface Row extends RowRef {
  /** Full path of the row's file (without the stream suffix). */
  path: string;
}

function addWarning(index: Pick<MftIndex, 'warnings' | 'warningCount'>, warning: DiskkitWarning): void {
  index.warningCount++;
  if (index.warnings.length < MAX_WARNINGS) index.warnings.push(warning);
}

const STATUS_MESSAGES: Record<number, string> = {
  [RecordStatus.BAAD]: 'record marked BAAD',
  [RecordStatus.TORN]: 'torn record (fixup mismatch)',
  [RecordStatus.CORRUPT]: 'corrupt record (header, attribute or run list out of bounds)',
  [RecordStatus.GARBAGE]: 'garbage record (no FILE signature)',
};

export interface BuildOptions {
  /** Directory-path cache size in UTF-16 units (default MAX_PATH_POOL_UNITS); past it paths are rebuilt from the parent chain. */
  pathPoolUnits?: number | undefined;
}

export function buildIndex(layout: MftLayout, scanned: ScannedMft, options: BuildOptions = {}): MftIndex {
  const { table, names, streams } = scanned;
  const index = {
    layout,
    table,
    names,
    streams,
    warnings: [...layout.warnings],
    warningCount: layout.warnings.length,
  } as MftIndex;
  const byStatus: Record<string, number> = Object.fromEntries(RECORD_STATUS_NAMES.map((n) => [n, 0]));
  const counts: RecordCounts = { records: 0, inUse: 0, empty: 0, badRecords: 0, byStatus, strayExtensions: 0 };
  const n = table.count;
  for (let r = 0; r < n; r++) {
    const s = table.status[r]!;
    byStatus[RECORD_STATUS_NAMES[s]!]!++;
    if (s === RecordStatus.NOT_READ) continue;
    counts.records++;
    if (s === RecordStatus.EMPTY) counts.empty++;
    else if (s === RecordStatus.OK || s === RecordStatus.TORN) {
      if (isInUse(table, r)) counts.inUse++;
    }
    if (s >= RecordStatus.BAAD && s !== RecordStatus.OK) {
      counts.badRecords++;
      addWarning(index, { code: ErrorCode.BAD_RECORD, message: STATUS_MESSAGES[s]!, context: { record: r, status: RECORD_STATUS_NAMES[s] } });
    }
  }
  index.counts = counts;
  index.namesByRecord = scanned.namesByRecord;
  index.streamsByRecord = scanned.streamsByRecord;
  mergeExtensions(index);
  index.paths = new PathResolver(table, names, index.namesByRecord, options.pathPoolUnits);
  resolveDirectories(index);
  return index;
}

/** True when `b` is a trusted base record for extension `r` (same sequence as the reference). */
function baseMatches(table: RecordTable, r: number, b: number): boolean {
  return b < table.count && b !== r && table.status[b] === RecordStatus.OK && table.baseRecord[b] === 0 && table.sequence[b] === table.baseSequence[r];
}

function mergeExtensions(index: MftIndex): void {
  const { table, names, streams } = index;
  /** Points an extension record's entries at its base record (or drops them); true when any moved. */
  const reassign = (list: NameList, groups: NameIndex): boolean => {
    let moved = false;
    const { order } = groups;
    for (let k = 0; k < order.length; k++) {
      const i = order[k]!;
      const o = list.owner[i]!;
      const b = table.baseRecord[o]!;
      if (b === 0) continue;
      list.owner[i] = table.status[o] === RecordStatus.OK && isInUse(table, o) === isInUse(table, b < table.count ? b : o) && baseMatches(table, o, b) ? b : NO_OWNER;
      moved = true;
    }
    return moved;
  };
  for (let r = 0; r < table.count; r++) {
    const b = table.baseRecord[r]!;
    if (b === 0 || table.status[r] !== RecordStatus.OK) continue;
    if (!baseMatches(table, r, b)) {
      if (isInUse(table, r)) {
        index.counts.strayExtensions++;
        addWarning(index, { code: ErrorCode.BAD_RECORD, message: `extension record whose base record ${b} is missing or reused`, context: { record: r, base: b } });
      }
      continue;
    }
    if (table.present[r]! & Present.DATA && !(table.present[b]! & Present.DATA)) {
      table.size[b] = table.size[r]!;
      table.allocated[b] = table.allocated[r]!;
      table.dataFlags[b] = table.dataFlags[r]!;
      table.dataAttributeId[b] = table.dataAttributeId[r]!;
      table.present[b]! |= Present.DATA;
    }
    table.present[b]! |= table.present[r]! & (Present.INDEX_ALLOCATION | Present.INDEX_ROOT | Present.REPARSE_POINT);
  }
  // Rare (names or streams held in extension records): regroup under the base records.
  if (reassign(names, index.namesByRecord)) index.namesByRecord = regroupByOwner(names, index.namesByRecord.order, table.count);
  if (reassign(streams, index.streamsByRecord)) index.streamsByRecord = regroupByOwner(streams, index.streamsByRecord.order, table.count);
}

/** Whether record r gets rows at all: a trusted-enough base record, in use unless deleted ones are wanted. */
export function isListed(index: MftIndex, r: number, options: RowOptions): boolean {
  const t = index.table;
  const s = t.status[r];
  if (s !== RecordStatus.OK && s !== RecordStatus.TORN) return false;
  if (t.baseRecord[r] !== 0) return false;
  return isInUse(t, r) || Boolean(options.deleted);
}

export function isDirectory(table: RecordTable, r: number): boolean {
  return (table.flags[r]! & RecordFlag.DIRECTORY) !== 0;
}

/**
 * Calls `visit` for every row of records [from, to), in record order: one per
 * distinct (parent, name) after dropping DOS names that duplicate a long name (edge
 * case 8), plus one per named stream when asked. `visit` gets the same reused RowRef
 * each time (copy what you keep).
 */
export function forEachRow(index: MftIndex, options: RowOptions, from: number, to: number, visit: (row: RowRef) => void): void {
  const { names, paths } = index;
  const { start, order } = index.namesByRecord;
  const ss = index.streamsByRecord;
  const row: RowRef = { record: 0, name: 0, stream: -1, parentDir: 0, orphan: false };
  const wantStreams = Boolean(options.streams);
  const pathNames: number[] = [];
  const pathParents: number[] = [];
  const pathOrphans: boolean[] = [];
  for (let r = from; r < to; r++) {
    if (!isListed(index, r, options)) continue;
    const first = start[r]!;
    const last = start[r + 1]!;
    if (first === last) continue;
    let hasLong = false;
    for (let k = first; k < last; k++) if (names.namespace[order[k]!] !== FileNamespace.DOS) hasLong = true;
    const dir = isDirectory(index.table, r);
    const primary = dir ? paths.primaryName(r) : -1;
    const streamFirst = wantStreams ? ss.start[r]! : 0;
    const streamLast = wantStreams ? ss.start[r + 1]! : 0;
    for (let k = first; k < last; k++) {
      const i = order[k]!;
      if (hasLong && names.namespace[i] === FileNamespace.DOS) continue;
      if (last - first > 1 && isDuplicateLink(names, order, first, k)) continue;
      row.record = r;
      row.name = i;
      row.stream = -1;
      if (r === ROOT_RECORD && i === primary) {
        row.parentDir = ROW_ROOT;
        row.orphan = false;
      } else if (i === primary) {
        row.parentDir = ROW_SELF;
        row.orphan = paths.isOrphanDir(r);
      } else {
        const parent = names.parent[i]!;
        if (paths.parentOk(r, parent, names.parentSequence[i]!)) {
          row.parentDir = parent;
          row.orphan = paths.isOrphanDir(parent);
        } else {
          row.parentDir = ROW_ORPHANED;
          row.orphan = true;
        }
      }
      visit(row);
      if (streamFirst < streamLast) {
        pathNames.push(i);
        pathParents.push(row.parentDir);
        pathOrphans.push(row.orphan);
      }
    }
    // Stream rows follow the record's path rows: for each stream, one per path.
    if (pathNames.length > 0) {
      for (let m = streamFirst; m < streamLast; m++) {
        for (let j = 0; j < pathNames.length; j++) {
          row.record = r;
          row.name = pathNames[j]!;
          row.parentDir = pathParents[j]!;
          row.orphan = pathOrphans[j]!;
          row.stream = ss.order[m]!;
          visit(row);
        }
      }
      pathNames.length = 0;
      pathParents.length = 0;
      pathOrphans.length = 0;
    }
  }
}

/** Full path of a row's file (without the stream suffix), as a string. */
export function rowFilePath(index: MftIndex, row: RowRef): string {
  if (row.parentDir === ROW_ROOT) return '/';
  if (row.parentDir === ROW_SELF) return index.paths.dirPath(row.record);
  const prefix = row.parentDir === ROW_ORPHANED ? ORPHAN_DIR : index.paths.dirPath(row.parentDir);
  return prefix + '/' + index.names.name(row.name);
}

/** Appends to `out` the rows of records [from, to) with their paths as strings (see forEachRow). Returns `out`. */
export function collectRows(index: MftIndex, options: RowOptions, from: number, to: number, out: Row[]): Row[] {
  forEachRow(index, options, from, to, (row) => out.push({ ...row, path: rowFilePath(index, row) }));
  return out;
}

/** A hard link is a duplicate when an earlier long name has the same parent reference and the same characters. */
function isDuplicateLink(names: NameList, order: Uint32Array, first: number, k: number): boolean {
  const i = order[k]!;
  for (let m = first; m < k; m++) {
    const j = order[m]!;
    if (names.parent[j] !== names.parent[i] || names.parentSequence[j] !== names.parentSequence[i] || names.charLength[j] !== names.charLength[i]) continue;
    if (names.namespace[j] === FileNamespace.DOS && names.namespace[i] !== FileNamespace.DOS) continue;
    let same = true;
    const a = names.charStart[i]!;
    const b = names.charStart[j]!;
    for (let c = 0; c < names.charLength[i]! && same; c++) same = names.chars[a + c] === names.chars[b + c];
    if (same) return true;
  }
  return false;
}

/** Resolves every directory path up front, so loops in the parent chains are known before any output. */
function resolveDirectories(index: MftIndex): void {
  const t = index.table;
  for (let r = 0; r < t.count; r++) {
    if (!isDirectory(t, r) || !isListed(index, r, { deleted: true }) || index.namesByRecord.start[r] === index.namesByRecord.start[r + 1]) continue;
    index.paths.resolve(r);
  }
  for (const r of index.paths.cycles) {
    addWarning(index, { code: ErrorCode.CORRUPT, message: 'parent references form a loop; cut here into /$Orphan', context: { record: r } });
  }
}
