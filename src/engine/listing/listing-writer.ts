/**
 * A recursive listing of any volume as a table (issue 13): `ls -R IMAGE --format
 * jsonl|csv|parquet`. Rows come from Volume.walk (or list, through walkVolume), so
 * every format behind the Volume interface gets it; the columns are what that
 * interface reports for every format: path, name, shortName (FAT 8.3, else null),
 * type (file|dir), size, mtime, ctime (creation), atime (last access) (UTC instants;
 * FAT stores local wall-clock time, read in this process's time zone as `ls --json`
 * does; FAT keeps only the date of the last access), attributes, deleted.
 *
 * JSONL: one object per entry with those keys. CSV (RFC 4180): the same columns,
 * attributes joined with `|`, an empty time when there is none. Parquet: path, name,
 * shortName, type as strings, size INT64, the times TIMESTAMP(MILLIS, UTC), attributes
 * list<string>, deleted BOOLEAN. The walk is synchronous and the Parquet writer
 * pulls, so Parquet batches are kept until the walk ends (a FAT volume's entries
 * fit; an MFT-sized listing is `mft index --format parquet`'s job).
 */
import * as arrow from '../parquet/arrow.js';
import type { WalkEntry } from '../volume.js';
import { writeParquetStream } from '../parquet/write-stream.js';

export const LISTING_FORMATS = ['jsonl', 'csv', 'parquet'] as const;
export type ListingFormat = (typeof LISTING_FORMATS)[number];
export const LISTING_COLUMNS = ['path', 'name', 'shortName', 'type', 'size', 'mtime', 'ctime', 'atime', 'attributes', 'deleted'] as const;

const BATCH_ROWS = 1 << 16;

export interface ListingWriter {
  /** One entry of the walk (the object may be reused by the walk: read it now). */
  entry(e: WalkEntry): void;
  /** Writes what is left (the Parquet footer). */
  finish(): Promise<void>;
}

/** The entry's full path inside the volume. */
export function entryPath(e: WalkEntry): string {
  return e.parent === '/' ? '/' + e.name : e.parent + '/' + e.name;
}

function timeIso(ms: number): string | null {
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

const CSV_NEEDS_QUOTES = /[",\r\n]/;
function csvField(text: string): string {
  return CSV_NEEDS_QUOTES.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
}

/** Writes rows of `format` through `sink`, which receives byte chunks in order. */
export function createListingWriter(format: ListingFormat, sink: (bytes: Uint8Array) => void): ListingWriter {
  if (format === 'parquet') return new ParquetListingWriter(sink);
  let text = format === 'csv' ? LISTING_COLUMNS.join(',') + '\n' : '';
  const flush = (force: boolean): void => {
    if (text.length === 0 || (!force && text.length < 1 << 20)) return;
    // UTF-8 encoding turns a lone surrogate into U+FFFD.
    const bytes = Buffer.from(text, 'utf8');
    text = '';
    sink(bytes);
  };
  return {
    entry(e) {
      const path = entryPath(e);
      if (format === 'jsonl') {
        text += JSON.stringify({ path, name: e.name, shortName: e.shortName, type: e.type, size: e.size, mtime: timeIso(e.mtimeMs), ctime: timeIso(e.ctimeMs), atime: timeIso(e.atimeMs), attributes: e.attributes, deleted: e.deleted }) + '\n';
      } else {
        text += [csvField(path), csvField(e.name), e.shortName === null ? '' : csvField(e.shortName), e.type, e.size, timeIso(e.mtimeMs) ?? '', timeIso(e.ctimeMs) ?? '', timeIso(e.atimeMs) ?? '', csvField(e.attributes.join('|')), e.deleted].join(',') + '\n';
      }
      flush(false);
    },
    finish: async () => flush(true),
  };
}

/** Gathers entries into Arrow columns, a batch at a time; the Parquet stream asks for them. */
class ParquetListingWriter implements ListingWriter {
  private rows: { path: string[]; name: string[]; shortName: (string | null)[]; type: string[]; size: bigint[]; mtime: (number | null)[]; ctime: (number | null)[]; atime: (number | null)[]; attributes: string[][]; deleted: boolean[] } = ParquetListingWriter.empty();
  private readonly batches: arrow.Table[] = [];

  constructor(private readonly sink: (bytes: Uint8Array) => void) {}

  private static empty() {
    return { path: [], name: [], shortName: [], type: [], size: [], mtime: [], ctime: [], atime: [], attributes: [], deleted: [] } as ParquetListingWriter['rows'];
  }

  entry(e: WalkEntry): void {
    const r = this.rows;
    r.path.push(entryPath(e));
    r.name.push(e.name);
    r.shortName.push(e.shortName);
    r.type.push(e.type);
    r.size.push(BigInt(e.size));
    r.mtime.push(Number.isNaN(e.mtimeMs) ? null : e.mtimeMs);
    r.ctime.push(Number.isNaN(e.ctimeMs) ? null : e.ctimeMs);
    r.atime.push(Number.isNaN(e.atimeMs) ? null : e.atimeMs);
    r.attributes.push([...e.attributes]);
    r.deleted.push(e.deleted);
    if (r.path.length >= BATCH_ROWS) this.seal();
  }

  private seal(): void {
    const r = this.rows;
    const utf8 = new arrow.Utf8();
    this.batches.push(
      new arrow.Table({
        path: arrow.vectorFromArray(r.path, utf8),
        name: arrow.vectorFromArray(r.name, utf8),
        shortName: arrow.vectorFromArray(r.shortName, utf8),
        type: arrow.vectorFromArray(r.type, utf8),
        size: arrow.vectorFromArray(r.size, new arrow.Int64()),
        mtime: arrow.vectorFromArray(r.mtime, new arrow.TimestampMillisecond('UTC')),
        ctime: arrow.vectorFromArray(r.ctime, new arrow.TimestampMillisecond('UTC')),
        atime: arrow.vectorFromArray(r.atime, new arrow.TimestampMillisecond('UTC')),
        attributes: arrow.vectorFromArray(r.attributes, new arrow.List(new arrow.Field('element', utf8, true))),
        deleted: arrow.vectorFromArray(r.deleted, new arrow.Bool()),
      }),
    );
    this.rows = ParquetListingWriter.empty();
  }

  async finish(): Promise<void> {
    if (this.rows.path.length > 0 || this.batches.length === 0) this.seal();
    let next = 0;
    await writeParquetStream(() => (next < this.batches.length ? this.batches[next++]! : null), this.sink);
  }
}
