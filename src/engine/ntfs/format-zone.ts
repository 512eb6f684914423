/**
 * `mft index -z TZ`: the ISO 8601 times of JSONL and CSV rows shown in a time zone
 * (as The Sleuth Kit's -z shows human-readable times in the original machine's zone)
 * instead of UTC: "2026-11-23T16:17:07.0000000+01:00". The fast row formatters write
 * fixed 28-byte UTC times; this rewrites their output line by line, so the fast path
 * is left as it is and only -z pays. Bodyfile times are Unix seconds and have no zone.
 *
 * Only time fields are touched: in JSONL the values of the `created`, `modified`,
 * `mftModified` and `accessed` keys (a name cannot hold an unescaped `":"`), in CSV the
 * columns the header names `si.*` / `fn.*`, found by parsing quotes (a quoted name may
 * hold anything).
 */
import { DiskkitError, ErrorCode } from '../errors.js';

const ISO_UTC = /^(\d{4,5})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{7})Z$/;
const JSONL_TIME = /"(created|modified|mftModified|accessed)":"(\d{4,5}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z)"/g;
const BUCKET_SECONDS = 900;
const ZERO_FILETIME = '1601-01-01T00:00:00.0000000Z';

/** Checks a time zone name (IANA like Europe/Berlin, or EST5EDT, UTC); throws E_USAGE. */
export function checkTimeZone(zone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw new DiskkitError(ErrorCode.USAGE, `unknown time zone '${zone}' (use an IANA name like Europe/Berlin, or UTC, EST5EDT)`);
  }
}

export class ZoneTimeRewriter {
  private carry: Buffer = Buffer.alloc(0);
  private readonly parts: Intl.DateTimeFormat;
  /** Offset in seconds per 15-minute bucket of UTC time: zones change offset at most on those boundaries. */
  private readonly offsets = new Map<number, number>();
  private timeColumns: Set<number> | null = null;

  constructor(
    private readonly format: 'jsonl' | 'csv',
    zone: string,
  ) {
    checkTimeZone(zone);
    this.parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', era: 'short' });
  }

  /** Rewrites the complete lines of `bytes` (plus what was carried); keeps an unfinished line for later. */
  push(bytes: Uint8Array): Buffer {
    const all = this.carry.length > 0 ? Buffer.concat([this.carry, bytes]) : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const end = all.lastIndexOf(0x0a) + 1;
    this.carry = Buffer.from(all.subarray(end));
    if (end === 0) return Buffer.alloc(0);
    return Buffer.from(this.rewriteLines(all.toString('utf8', 0, end)), 'utf8');
  }

  /** What is left (a last line without a newline). */
  end(): Buffer {
    const rest = this.carry;
    this.carry = Buffer.alloc(0);
    return rest.length === 0 ? rest : Buffer.from(this.rewriteLines(rest.toString('utf8')), 'utf8');
  }

  private rewriteLines(text: string): string {
    if (this.format === 'jsonl') return text.replace(JSONL_TIME, (_, key: string, iso: string) => `"${key}":"${this.inZone(iso)}"`);
    return text
      .split('\n')
      .map((line) => (line === '' ? line : this.rewriteCsvLine(line)))
      .join('\n');
  }

  private rewriteCsvLine(line: string): string {
    const fields = splitCsv(line);
    if (this.timeColumns === null) {
      this.timeColumns = new Set(fields.flatMap((name, i) => (/^(si|fn)\./.test(name) ? [i] : [])));
      return line;
    }
    let changed = false;
    for (const i of this.timeColumns) {
      const f = fields[i];
      if (f !== undefined && ISO_UTC.test(f)) {
        fields[i] = this.inZone(f);
        changed = true;
      }
    }
    return changed ? fields.join(',') : line;
  }

  /**
   * "…T15:17:07.0000000Z" as the same instant in the zone, with its offset: +hh:mm, or
   * +hh:mm:ss for the local mean times zones had before standard time (Berlin +00:53:28).
   * FILETIME 0 (1601-01-01T00:00:00Z) means "no time" and stays as it is.
   */
  private inZone(iso: string): string {
    if (iso === ZERO_FILETIME) return iso;
    const m = ISO_UTC.exec(iso)!;
    const utcMs = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
    // Date.UTC maps years 0..99 to 1900..1999; FILETIMEs start in 1601, so that never applies.
    const offset = this.offsetSeconds(utcMs);
    const local = new Date(utcMs + offset * 1000);
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    const sign = offset < 0 ? '-' : '+';
    const abs = Math.abs(offset);
    const seconds = abs % 60 === 0 ? '' : `:${pad(abs % 60)}`;
    return `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}.${m[7]}${sign}${pad(Math.floor(abs / 3600))}:${pad(Math.floor(abs / 60) % 60)}${seconds}`;
  }

  private offsetSeconds(utcMs: number): number {
    const bucket = Math.floor(utcMs / 1000 / BUCKET_SECONDS);
    let offset = this.offsets.get(bucket);
    if (offset === undefined) {
      const at = bucket * BUCKET_SECONDS * 1000;
      const p: Record<string, string> = {};
      for (const { type, value } of this.parts.formatToParts(new Date(at))) p[type] = value;
      const year = p.era === 'BC' || p.era === 'B' ? 1 - Number(p.year) : Number(p.year);
      const wall = Date.UTC(year, Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
      offset = Math.round((wall - at) / 1000);
      if (this.offsets.size > 100_000) this.offsets.clear();
      this.offsets.set(bucket, offset);
    }
    return offset;
  }
}

/** Splits one CSV line (RFC 4180 quoting) into its fields, quotes kept as written. */
function splitCsv(line: string): string[] {
  const fields: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) {
      fields.push(line.slice(start, i));
      start = i + 1;
    }
  }
  fields.push(line.slice(start));
  return fields;
}
