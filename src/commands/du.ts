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
        const volume = openVolume(image!, { partition: g.partition });
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
          if (!volume.usage) throw usageError(`${volume.format} volumes have no clusters to count`);
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
 * way: directories after their contents. Recursion depth is bounded by the directory
 * depth, which list's loop check keeps finite; unreadable parts are reported and skipped.
 */
function measure(volume: Volume, handle: string | EntryInfo, entry: EntryInfo, opts: DuOptions, print: (row: DuRow) => void, fail: (e: unknown) => void): DuRow {
  const own = volume.usage!(handle);
  const row: DuRow = { path: entry.path, type: entry.type, clusters: own.clusters, bytes: own.bytes };
  if (entry.type !== 'dir') return row;
  let children: EntryInfo[] = [];
  try {
    children = volume.list(handle);
  } catch (error) {
    fail(error);
  }
  for (const child of children) {
    try {
      const sub = measure(volume, child, child, opts, print, fail);
      row.clusters += sub.clusters;
      row.bytes += sub.bytes;
      if (child.type === 'file' && opts.all) print(sub);
    } catch (error) {
      fail(error);
    }
  }
  if (!opts.summarize) print(row);
  return row;
}
