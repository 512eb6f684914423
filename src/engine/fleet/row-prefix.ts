/**
 * The combined stream of a many-source run (no --out-dir): each source's rows, as
 * its own pipeline wrote them, copied with the source added in front — a leading
 * `source` key in JSONL, a leading `source` column in CSV (the header written
 * once), and `SOURCE:` before the path in a body file (as `fls -m SOURCE:` does).
 * Works chunk by chunk: a row may be split across chunks.
 */
import { wellFormed } from '../ntfs/byte-writer.js';

export type PrefixFormat = 'jsonl' | 'csv' | 'bodyfile';

export interface RowPrefixer {
  /** The bytes to write for `chunk` (the next bytes of the source's rows). */
  push(chunk: Uint8Array): Uint8Array[];
}

const NEWLINE = 0x0a;
const QUOTE = 0x22;
const BAR = 0x7c;
const CSV_NEEDS_QUOTES = /[",\r\n]/;
const BODYFILE_UNSAFE = /[|\u0000-\u001f\u007f\\]/g;

function csvField(s: string): string {
  const text = wellFormed(s);
  return CSV_NEEDS_QUOTES.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
}

/**
 * A prefixer for one source's rows. `withHeader`: for CSV, whether this source's
 * header line is written (with `source,` in front) or dropped (an earlier source
 * already wrote it).
 */
export function prefixRows(format: PrefixFormat, source: string, withHeader = true): RowPrefixer {
  if (format === 'jsonl') {
    const head = Buffer.from(`{"source":${JSON.stringify(wellFormed(source))},`, 'utf8');
    let atRowStart = true;
    return {
      push(chunk) {
        const out: Uint8Array[] = [];
        let from = 0;
        while (from < chunk.length) {
          if (atRowStart) {
            // Every row is an object: its '{' is replaced by the head, which opens the object.
            out.push(head);
            from++;
            atRowStart = false;
            continue;
          }
          const nl = chunk.indexOf(NEWLINE, from);
          const end = nl < 0 ? chunk.length : nl + 1;
          out.push(chunk.subarray(from, end));
          from = end;
          if (nl >= 0) atRowStart = true;
        }
        return out;
      },
    };
  }
  if (format === 'csv') {
    const head = Buffer.from(csvField(source) + ',', 'utf8');
    const headerHead = Buffer.from('source,', 'ascii');
    let atRecordStart = true;
    let inHeader = true;
    let inQuotes = false;
    return {
      push(chunk) {
        const out: Uint8Array[] = [];
        let from = 0;
        for (let i = 0; i < chunk.length; i++) {
          if (atRecordStart) {
            if (!inHeader) out.push(head);
            else if (withHeader) out.push(headerHead);
            atRecordStart = false;
          }
          const b = chunk[i]!;
          if (b === QUOTE) inQuotes = !inQuotes;
          else if (b === NEWLINE && !inQuotes) {
            // A record ends at a line break outside quotes (RFC 4180: quoted fields may hold line breaks).
            if (!inHeader || withHeader) out.push(chunk.subarray(from, i + 1));
            from = i + 1;
            atRecordStart = true;
            inHeader = false;
          }
        }
        if (from < chunk.length && (!inHeader || withHeader)) out.push(chunk.subarray(from));
        return out;
      },
    };
  }
  const head = Buffer.from(wellFormed(source).replace(BODYFILE_UNSAFE, (c) => (c === '\\' ? '\\\\' : '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'))) + ':', 'utf8');
  let atLineStart = true;
  let inFirstField = false;
  return {
    push(chunk) {
      const out: Uint8Array[] = [];
      let from = 0;
      let i = 0;
      while (i < chunk.length) {
        if (atLineStart) {
          atLineStart = false;
          inFirstField = true;
        }
        if (inFirstField) {
          // The path is the second field: the prefix goes after the first '|'.
          const bar = chunk.indexOf(BAR, i);
          if (bar < 0) break;
          out.push(chunk.subarray(from, bar + 1), head);
          from = i = bar + 1;
          inFirstField = false;
          continue;
        }
        const nl = chunk.indexOf(NEWLINE, i);
        if (nl < 0) break;
        i = nl + 1;
        atLineStart = true;
      }
      if (from < chunk.length) out.push(chunk.subarray(from));
      return out;
    },
  };
}
