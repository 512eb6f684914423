/**
 * `diskkit ls IMAGE[:/PATH] [-l] [-R] [-a] [--deleted] [--streams]`.
 *
 * Like mdir, entries marked hidden or system, and the "." and ".." entries, are
 * left out unless -a is given (and -R does not descend into hidden directories
 * without -a). --deleted adds entries marked deleted (first character shown as '?'
 * when it cannot be recovered). With --json the output is one array of
 * {path, name, shortName, type, size, mtime, attributes} (plus `deleted: true`).
 * A directory that cannot be read (bad chain, loop) is reported on stderr and the
 * rest of the listing goes on; the exit code is then 1.
 */
import type { Command } from 'commander';
import type { WalkEntry } from '../engine/volume.js';
import type { ByteWriter } from './stdout-writer.js';
import { escapeName, globalOptions, parseImageRef, reportError, runAction, slashedFileError, type GlobalOptions } from './context.js';
import { ExitCode } from './exit-codes.js';

export interface LsOptions {
  long?: boolean;
  recursive?: boolean;
  all?: boolean;
  deleted?: boolean;
  wide?: boolean;
  bare?: boolean;
  summary?: boolean;
  streams?: boolean;
  format?: string;
  out?: string;
}

export function define(program: Command): void {
  program
    .command('ls')
    .description('list a directory of the image (or one file)')
    .argument('<image[:/path]>', 'image, or image:/dir')
    .option('-l, --long', 'show attributes, size, modification time and short name')
    .option('-R, --recursive', 'list subdirectories recursively')
    .option('-a, --all', 'include hidden and system entries, and . and ..')
    .option('--deleted', 'include entries marked deleted')
    .option('--streams', 'also list named data streams (NTFS alternate data streams) as NAME:STREAM')
    .option('--format <format>', 'a table, one row per entry: jsonl, csv or parquet (with --out)')
    .option('-o, --out <file>', 'with --format: write the table to FILE')
    .option('-w, --wide', 'names only, in columns, directories in [brackets] (as mdir -w); implies -s')
    .option('-b, --bare', 'one full path per line, no headers (as mdir -b; with -R the whole tree)')
    .option('-s, --summary', 'end each directory with "N files, M bytes" and the listing with the free space (as mdir)')
    .action((target: string, opts: LsOptions, command: Command) => runLs(target, opts, globalOptions(command)));
}

/** The `ls` action (also run directly, without the command tree, by quick-start.ts). */
export function runLs(target: string, opts: LsOptions, g: GlobalOptions): Promise<void> {
  const ref = parseImageRef(target)!;
  if (opts.format !== undefined || opts.out !== undefined) {
    return runAction(ref.image, async () => (await import('./ls-export.js')).runListingExport(ref.image, ref.path, { ...opts, format: opts.format ?? 'jsonl' }, g));
  }
  return runAction(ref.image, async () => {
    const [{ openVolume }, { walkVolume, walkEntryOf }, { ByteWriter }] = await Promise.all([
      import('../engine/open-volume.js'),
      import('../engine/walk.js'),
      import('./stdout-writer.js'),
    ]);
    const volume = await openVolume(ref.image, { partition: g.partition });
    const out = new ByteWriter(1);
    const format = new ListingFormat(out, opts, g.json);
    // Wide, bare and summary are text layouts; --json keeps its one array.
    const extras = !g.json && (opts.wide || opts.bare || opts.summary)
      ? new (await import('./ls-extras.js')).ListingExtras(out, { wide: Boolean(opts.wide), bare: Boolean(opts.bare), summary: Boolean(opts.summary || opts.wide), recursive: Boolean(opts.recursive) })
      : null;
    let failed = false;
    try {
      const top = volume.stat(ref.path);
      const slashed = slashedFileError(ref, top);
      if (slashed) throw slashed;
      if (g.json) out.ascii('[');
      if (top.type === 'file') {
        const single = walkEntryOf(top);
        format.directory(single.parent);
        extras?.directory(single.parent);
        if (!extras?.entry(single)) format.entry(single);
      } else {
        const recursive = Boolean(opts.recursive);
        walkVolume(volume, top, { deleted: opts.deleted, dotEntries: opts.all, recursive, streams: opts.streams }, {
          directory(path, depth) {
            extras?.directory(path);
            if (!g.json && !opts.bare) {
              if (depth > 0) out.ascii('\n');
              if (recursive) {
                out.escapedText(path, escapeName);
                out.ascii(':\n');
              }
            }
            format.directory(path);
          },
          entry(e) {
            // Like mdir: hidden and system entries only with -a, and -R does not descend into them.
            if (opts.all !== true && (e.attributes.includes('hidden') || e.attributes.includes('system'))) return false;
            if (!extras?.entry(e)) format.entry(e);
            if (e.streams) for (const s of e.streams) { const stream = { ...e, name: `${e.name}:${s.name}`, type: 'file' as const, size: s.size, dot: false }; if (!extras?.entry(stream)) format.entry(stream); }
            // A deleted directory only with --deleted (NTFS lists its deleted children; FAT never descends).
            return e.type === 'dir' && (!e.deleted || opts.deleted === true) && e.name !== '.' && e.name !== '..';
          },
          error(_path, depth, error) {
            if (!g.json && depth > 0) out.ascii('\n');
            failed = true;
            out.flush();
            reportError(ref.image, error);
          },
        });
      }
      extras?.finish(opts.summary || opts.wide ? volume.info().freeBytes : null);
      if (g.json) out.ascii(format.count === 0 ? ']\n' : '\n]\n');
      out.flush();
      if (!g.quiet && !g.json) for (const w of volume.warnings) process.stderr.write(`diskkit: ${escapeName(ref.image)}: warning: ${escapeName(w.message)}${w.context?.path ? ` (path ${escapeName(String(w.context.path))})` : ''}\n`);
    } finally {
      volume.close();
    }
    return failed ? ExitCode.ERROR : ExitCode.OK;
  });
}


const ASCII = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const UTF8 = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const JSON_PATH = ASCII('{"path":"');
const JSON_NAME = ASCII('","name":"');
const JSON_SHORT = ASCII('","shortName":"');
const JSON_SHORT_NULL = ASCII('","shortName":null');
const JSON_FILE = ASCII(',"type":"file","size":');
const JSON_DIR = ASCII(',"type":"dir","size":');
const JSON_MTIME = ASCII(',"mtime":');
const JSON_ATTRIBUTES = ASCII(',"attributes":');
const JSON_DELETED_END = ASCII(',"deleted":true}');
const JSON_FIRST = ASCII('\n  ');
const JSON_NEXT = ASCII(',\n  ');
const NULL = ASCII('null');
const ISO_END = ASCII('Z"');
const QUOTE = 0x22;
const NO_TIME = ASCII('----------------');
const DELETED_MARK = ASCII('  (deleted)');

/**
 * Writes entries as ls prints them, straight into the output buffer: ls -R of a
 * million entries is mostly this, so the text that repeats (the directory's path,
 * timestamps, attribute lists) is encoded once and copied, and names are escaped
 * only when they need it.
 */
class ListingFormat {
  count = 0;
  /** The current directory's path as JSON string text, with the trailing '/'. */
  private dirPrefix: Uint8Array = ASCII('/');
  private readonly isoCache = new Map<number, Uint8Array>();
  private readonly localCache = new Map<number, Uint8Array>();
  private readonly attributeCache = new Map<string[], Uint8Array>();
  private lastTime = Number.NaN;
  private isoSecond = Number.NaN;
  private isoPrefix: Uint8Array = NULL;
  private readonly isoPrefixes = new Map<number, Uint8Array>();
  private lastTimeText: Uint8Array = NULL;

  constructor(
    private readonly out: ByteWriter,
    private readonly opts: LsOptions,
    private readonly json: boolean,
  ) {}

  directory(path: string): void {
    const text = path === '/' ? '/' : JSON.stringify(path).slice(1, -1) + '/';
    this.dirPrefix = UTF8(text);
  }

  entry(e: WalkEntry): void {
    const out = this.out;
    out.maybeFlush();
    if (this.json) {
      out.bytes(this.count === 0 ? JSON_FIRST : JSON_NEXT);
      out.bytes(JSON_PATH);
      out.bytes(this.dirPrefix);
      // The name's JSON text is made once and copied for the second field.
      const flushes = out.flushes;
      const nameStart = out.position;
      out.jsonChars(e.name);
      const nameEnd = out.position;
      out.bytes(JSON_NAME);
      if (!out.copyWithin(nameStart, nameEnd, flushes)) out.jsonChars(e.name);
      if (e.shortName === null) out.bytes(JSON_SHORT_NULL);
      else {
        out.bytes(JSON_SHORT);
        out.jsonChars(e.shortName);
        out.byte(QUOTE);
      }
      out.bytes(e.type === 'dir' ? JSON_DIR : JSON_FILE);
      out.uint(e.size);
      out.bytes(JSON_MTIME);
      this.isoTime(e.mtimeMs);
      out.bytes(JSON_ATTRIBUTES);
      out.bytes(this.attributesText(e.attributes));
      if (e.deleted) out.bytes(JSON_DELETED_END);
      else out.byte(0x7d);
    } else {
      if (this.opts.long) {
        out.bytes(this.attributesText(e.attributes));
        out.byte(0x20);
        out.uint(e.size, 10);
        out.byte(0x20);
        out.bytes(this.timeText(e.mtimeMs, false));
        out.byte(0x20);
      }
      out.escapedText(e.name, escapeName);
      if (e.type === 'dir') out.byte(0x2f);
      if (e.deleted) out.bytes(DELETED_MARK);
      if (this.opts.long && e.shortName && e.shortName !== e.name) {
        out.ascii('  [');
        out.escapedText(e.shortName, escapeName);
        out.byte(0x5d);
      }
      out.byte(0x0a);
    }
    this.count++;
  }

  /**
   * A timestamp as JSON ("...Z" as toISOString writes it, or null). NTFS times are
   * distinct to the millisecond, so caching by value misses: the text up to the
   * seconds is kept per second and the milliseconds written as digits.
   */
  private isoTime(ms: number): void {
    const out = this.out;
    // Years 0..9999 have the fixed-width form; others (and NaN) go the slow way.
    if (!(ms >= 0 && ms < 253402300800000)) {
      out.bytes(this.timeText(ms, true));
      return;
    }
    const second = Math.floor(ms / 1000);
    if (second !== this.isoSecond) {
      // Kept per second seen: a directory listed in name order goes back and forth
      // between the few seconds its files were made in.
      let prefix = this.isoPrefixes.get(second);
      if (prefix === undefined) {
        prefix = ASCII('"' + new Date(second * 1000).toISOString().slice(0, 20));
        if (this.isoPrefixes.size >= 4096) this.isoPrefixes.clear();
        this.isoPrefixes.set(second, prefix);
      }
      this.isoSecond = second;
      this.isoPrefix = prefix;
    }
    out.bytes(this.isoPrefix);
    const milli = ms - second * 1000;
    out.byte(0x30 + Math.floor(milli / 100));
    out.byte(0x30 + (Math.floor(milli / 10) % 10));
    out.byte(0x30 + (milli % 10));
    out.bytes(ISO_END);
  }

  /** A timestamp as JSON ("...Z" or null) or as local wall-clock text (ls -l), cached by its value. */
  private timeText(ms: number, json: boolean): Uint8Array {
    if (ms === this.lastTime) return this.lastTimeText;
    let text: Uint8Array | undefined;
    if (Number.isNaN(ms)) text = json ? NULL : NO_TIME;
    else {
      const cache = json ? this.isoCache : this.localCache;
      text = cache.get(ms);
      if (text === undefined) {
        const d = new Date(ms);
        text = ASCII(json ? '"' + d.toISOString() + '"' : formatTime(d));
        if (cache.size > 65536) cache.clear();
        cache.set(ms, text);
      }
      this.lastTime = ms;
      this.lastTimeText = text;
    }
    return text;
  }

  /** JSON list or -l letters, per shared attribute array. */
  private attributesText(attributes: string[]): Uint8Array {
    let text = this.attributeCache.get(attributes);
    if (text === undefined) {
      text = UTF8(this.json ? JSON.stringify(attributes) : ATTR_LETTERS.map(([a, l]) => (attributes.includes(a) ? l : '-')).join(''));
      // Volumes that share their attribute arrays make this a hit; others must not grow it.
      if (this.attributeCache.size < 1024) this.attributeCache.set(attributes, text);
    }
    return text;
  }
}

const ATTR_LETTERS: [string, string][] = [
  ['readonly', 'r'],
  ['hidden', 'h'],
  ['system', 's'],
  ['dir', 'd'],
  ['archive', 'a'],
];

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/** Local wall-clock time, as FAT stores it. */
function formatTime(d: Date | null): string {
  if (!d) return '----------------';
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}
