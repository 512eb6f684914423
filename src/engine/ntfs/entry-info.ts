/**
 * The EntryInfo NtfsVolume returns, and its path helpers. An entry remembers its MFT
 * record and stream, so list/openFile given one need no path lookup.
 */
import type { EntryInfo } from '../volume.js';
import { attributeNamesOf, type FileRecord } from './file-record.js';
import { ROOT_RECORD } from './mft-record.js';

/** MFT records 0-15 are the volume's metafiles ($MFT ... $Extend, and four kept free), record 5 the root itself. */
const FIRST_USER_RECORD = 16;

/** What an entry shows of its record: a decoded FileRecord or a RecordSummary read in place. */
export type EntryFacts = Pick<FileRecord, 'isDirectory' | 'inUse' | 'fileAttributes' | 'createdMs' | 'modifiedMs' | 'accessedMs'>;

/** An EntryInfo that remembers its MFT record and stream (list/openFile given one need no lookup). */
export class NtfsEntryInfo implements EntryInfo {
  name: string;
  shortName: string | null = null;
  type: 'file' | 'dir';
  size: number;
  mtime: Date | null;
  ctime: Date | null;
  atime: Date | null;
  attributes: string[];
  deleted?: boolean;
  streams?: { name: string; size: number }[];
  metadata?: boolean;
  readonly #record: number;
  readonly #stream: string;

  constructor(readonly path: string, name: string, record: number, file: EntryFacts, stream: string, size: number) {
    this.#record = record;
    this.#stream = stream;
    this.name = name;
    this.type = file.isDirectory && stream === '' ? 'dir' : 'file';
    this.size = size;
    this.mtime = Number.isNaN(file.modifiedMs) ? null : new Date(file.modifiedMs);
    this.ctime = Number.isNaN(file.createdMs) ? null : new Date(file.createdMs);
    this.atime = Number.isNaN(file.accessedMs) ? null : new Date(file.accessedMs);
    this.attributes = attributeNamesOf(file.fileAttributes, file.isDirectory);
    if (!file.inUse) this.deleted = true;
    // Named with '$' too (as tsk_recover asks): a record of its own number alone does not hide a file from a tree copy.
    if (record < FIRST_USER_RECORD && record !== ROOT_RECORD && name.startsWith('$') && path.lastIndexOf('/') === 0) this.metadata = true;
  }

  get origin(): { record: number; stream: string } {
    return { record: this.#record, stream: this.#stream };
  }
}

export function childPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

export function splitPath(path: string): string[] {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out;
}
