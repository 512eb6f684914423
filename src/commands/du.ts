/**
 * `diskkit du IMAGE:/DIR... [-a] [-s]`: space used, in clusters (as mdu counts) and in
 * bytes (clusters × cluster size). A directory counts its own clusters plus
 * everything below it; the FAT12/16 fixed root has no clusters of its own. Like mdu
 * and du(1), subdirectories are printed before their parent; -a adds files, -s
 * prints only each argument's total.
 *
 * One difference from mtools 4.0: mdu leaves out the directory clusters of the
 * directories right under a FAT12/16 fixed root (its check for "the root" looks at
 * the parent); diskkit counts them, as mdu itself does on FAT32.
 */
import type { Command } from 'commander';
import type { EntryInfo, Volume } from '../engine/volume.js';
import { escapeName, globalOptions, parseImageRef, printJson, reportError, runAction, usageError } from './context.js';
import { unsupportedError } from '../engine/formats.js';
import { ExitCode } from './exit-codes.js';

interface DuOptions {
  all?: boolean;
  summarize?: boolean;
}

interface DuRow {
  path: string;
  type: 'file' | 'dir';
  clusters: number;
  bytes: number;
}

export function define(program: Command): void {
  program
    .command('du')
    .description('space used by directories (and files), in clusters and bytes, as mdu')
    .argument('<paths...>', 'IMAGE:/DIR or IMAGE:/FILE (one image); IMAGE alone is the root')
    .option('-a, --all', 'also a line per file')
    .option('-s, --summarize', 'only the total of each argument')
    .addHelpText('after', '\nOutput: CLUSTERS<TAB>BYTES<TAB>PATH, subdirectories before their parent.\nWith --json: [{path, type, clusters, bytes}].')
    .action((paths: string[], opts: DuOptions, command: Command) => {
      const g = globalOptions(command);
      const refs = paths.map((p) => parseImageRef(p)!);
      const image = refs[0]?.image;
      return runAction(image, async () => {
        if (refs.some((r) => r.image !== image)) throw usageError('du works on one image at a time');
        if (opts.all && opts.summarize) throw usageError('-a and -s do not go together');
        const { openVolume } = await import('../engine/open-volume.js');
        const volume = await openVolume(image!, { partition: g.partition });
        const rows: DuRow[] = [];
        const print = (row: DuRow): void => {
          if (g.json) rows.push(row);
          else process.stdout.write(`${row.clusters}\t${row.bytes}\t${escapeName(row.path)}\n`);
        };
        let failed = false;
        const fail = (error: unknown): void => {
          failed = true;
          reportError(image, error);
        };
        try {
          if (!volume.usage) throw unsupportedError(volume.format, 'du', 'volumes have no clusters to count (du counts the clusters a FAT entry holds)');
          for (const ref of refs) {
            try {
              const top = volume.stat(ref.path);
              const total = measure(volume, top.path === '/' ? '/' : top, top, opts, print, fail);
              if (opts.summarize || top.type === 'file') print(total);
            } catch (error) {
              fail(error);
            }
          }
        } finally {
          volume.close();
        }
        if (g.json) printJson(rows);
        return failed ? ExitCode.ERROR : ExitCode.OK;
      });
    });
}

/**
 * The usage of `entry` (and, for a directory, everything below), printing rows on the
 * way: files (with -a) as met, directories after their contents. An explicit stack,
 * not recursion: a hostile image may nest directories very deep (list refuses loops).
 * Unreadable parts are reported and left out of the totals.
 */
function measure(volume: Volume, handle: string | EntryInfo, entry: EntryInfo, opts: DuOptions, print: (row: DuRow) => void, fail: (e: unknown) => void): DuRow {
  interface Frame {
    handle: string | EntryInfo;
    row: DuRow;
    children: EntryInfo[] | null;
    next: number;
  }
  const own = volume.usage!(handle);
  const top: DuRow = { path: entry.path, type: entry.type, clusters: own.clusters, bytes: own.bytes };
  if (entry.type !== 'dir') return top;
  const stack: Frame[] = [{ handle, row: top, children: null, next: 0 }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.children === null) {
      try {
        frame.children = volume.list(frame.handle);
      } catch (error) {
        fail(error);
        frame.children = [];
      }
    }
    if (frame.next < frame.children.length) {
      const child = frame.children[frame.next++]!;
      try {
        const usage = volume.usage!(child);
        const row: DuRow = { path: child.path, type: child.type, clusters: usage.clusters, bytes: usage.bytes };
        if (child.type === 'dir') stack.push({ handle: child, row, children: null, next: 0 });
        else {
          frame.row.clusters += row.clusters;
          frame.row.bytes += row.bytes;
          if (opts.all) print(row);
        }
      } catch (error) {
        fail(error);
      }
      continue;
    }
    stack.pop();
    if (!opts.summarize) print(frame.row);
    const parent = stack[stack.length - 1];
    if (parent) {
      parent.row.clusters += frame.row.clusters;
      parent.row.bytes += frame.row.bytes;
    }
  }
  return top;
}
