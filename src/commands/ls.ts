/**
 * `diskkit ls IMAGE[:/PATH] [-l] [-R] [-a] [--deleted]`.
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
import type { EntryInfo, Volume } from '../engine/volume.js';
import { escapeName, globalOptions, parseImageRef, reportError, runAction } from './context.js';
import { ExitCode } from './exit-codes.js';

interface LsOptions {
  long?: boolean;
  recursive?: boolean;
  all?: boolean;
  deleted?: boolean;
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
    .action((target: string, opts: LsOptions, command: Command) => {
      const g = globalOptions(command);
      const ref = parseImageRef(target)!;
      return runAction(ref.image, async () => {
        const [{ openVolume }, { BufferedTextWriter }] = await Promise.all([import('../engine/open-volume.js'), import('./stdout-writer.js')]);
        const volume = openVolume(ref.image, { partition: g.partition });
        const out = new BufferedTextWriter(1);
        let failed = false;
        try {
          const top = volume.stat(ref.path);
          const visible = (e: EntryInfo): boolean => opts.all === true || !(e.attributes.includes('hidden') || e.attributes.includes('system'));
          let first = true;
          const emitJson = (e: EntryInfo): void => {
            out.write((first ? '\n  ' : ',\n  ') + JSON.stringify(jsonEntry(e)));
            first = false;
          };
          if (g.json) out.write('[');
          if (top.type === 'file') {
            if (g.json) emitJson(top);
            else out.write(formatLine(top, opts) + '\n');
          } else {
            const walk = (dir: EntryInfo, header: boolean): void => {
              const path = dir.path;
              let entries: EntryInfo[];
              try {
                entries = listDir(volume, dir, opts);
              } catch (error) {
                failed = true;
                out.flush();
                reportError(ref.image, error);
                return;
              }
              if (!g.json && header) out.write(`${escapeName(path)}:\n`);
              const shown = entries.filter(visible);
              for (const e of shown) {
                if (g.json) emitJson(e);
                else out.write(formatLine(e, opts) + '\n');
              }
              if (opts.recursive) {
                for (const e of shown) {
                  if (e.type !== 'dir' || e.deleted || e.name === '.' || e.name === '..') continue;
                  if (!g.json) out.write('\n');
                  walk(e, true);
                }
              }
            };
            walk(top, Boolean(opts.recursive));
          }
          if (g.json) out.write(first ? ']\n' : '\n]\n');
          out.flush();
          if (!g.quiet && !g.json) for (const w of volume.warnings) process.stderr.write(`diskkit: ${escapeName(ref.image)}: warning: ${escapeName(w.message)}${w.context?.path ? ` (path ${escapeName(String(w.context.path))})` : ''}\n`);
        } finally {
          volume.close();
        }
        return failed ? ExitCode.ERROR : ExitCode.OK;
      });
    });
}

function listDir(volume: Volume, path: EntryInfo, opts: LsOptions): EntryInfo[] {
  const list = volume.list as (p: string | EntryInfo, o: { deleted?: boolean; dotEntries?: boolean }) => EntryInfo[];
  return list.call(volume, path, { deleted: opts.deleted, dotEntries: opts.all });
}

function jsonEntry(e: EntryInfo): Record<string, unknown> {
  const o: Record<string, unknown> = {
    path: e.path,
    name: e.name,
    shortName: e.shortName,
    type: e.type,
    size: e.size,
    mtime: e.mtime ? e.mtime.toISOString() : null,
    attributes: e.attributes,
  };
  if (e.deleted) o.deleted = true;
  return o;
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

function formatLine(e: EntryInfo, opts: LsOptions): string {
  const name = escapeName(e.name) + (e.type === 'dir' ? '/' : '') + (e.deleted ? '  (deleted)' : '');
  if (!opts.long) return name;
  const attrs = ATTR_LETTERS.map(([a, l]) => (e.attributes.includes(a) ? l : '-')).join('');
  const short = e.shortName && e.shortName !== e.name ? `  [${escapeName(e.shortName)}]` : '';
  return `${attrs} ${String(e.size).padStart(10)} ${formatTime(e.mtime)} ${name}${short}`;
}
