/**
 * `diskkit chain IMAGE:/PATH...`: the cluster chain of files and directories, as
 * mshowfat prints it: the path, then each run of consecutive clusters in chain order,
 * `<first-last>` or `<n>` for a run of one. The whole chain is shown, also past the
 * file size; an empty file or the FAT12/16 fixed root has none.
 */
import type { Command } from 'commander';
import { escapeName, globalOptions, parseImageRef, printJson, reportError, runAction, usageError } from './context.js';
import { unsupportedError } from '../engine/formats.js';
import { ExitCode } from './exit-codes.js';

/** Runs as mshowfat writes them: `<2-5> <9> <12-14>`. */
export function formatRuns(runs: readonly { start: number; count: number }[]): string {
  return runs.map((r) => (r.count === 1 ? `<${r.start}>` : `<${r.start}-${r.start + r.count - 1}>`)).join(' ');
}

export function define(program: Command): void {
  program
    .command('chain')
    .description("show the cluster chain of files or directories, as mshowfat")
    .argument('<paths...>', 'IMAGE:/PATH (one image)')
    .addHelpText('after', '\nOutput: PATH <first-last> <n> ... (runs of consecutive clusters, in chain order).\nWith --json: [{path, clusters, runs: [{start, count}]}].')
    .action((paths: string[], _opts: unknown, command: Command) => {
      const g = globalOptions(command);
      const refs = paths.map((p) => parseImageRef(p));
      const image = refs[0]?.image;
      return runAction(image, async () => {
        if (refs.some((r) => !r || !r.explicitPath)) throw usageError('chain takes IMAGE:/PATH arguments (e.g. disk.img:/boot/kernel.img)');
        if (refs.some((r) => r!.image !== image)) throw usageError('chain works on one image at a time');
        const { openVolume } = await import('../engine/open-volume.js');
        const volume = await openVolume(image!, { partition: g.partition });
        const results: { path: string; clusters: number; runs: { start: number; count: number }[] }[] = [];
        let failed = false;
        try {
          if (!volume.clusterChain) throw unsupportedError(volume.format, 'chain', 'volumes have no cluster chains');
          for (const ref of refs) {
            try {
              const entry = volume.stat(ref!.path);
              const runs = volume.clusterChain(entry.path === '/' ? '/' : entry);
              const clusters = runs.reduce((n, r) => n + r.count, 0);
              results.push({ path: entry.path, clusters, runs });
              if (!g.json) process.stdout.write(`${escapeName(entry.path)} ${runs.length === 0 ? '(no clusters: empty file or fixed root directory)' : formatRuns(runs)}\n`);
            } catch (error) {
              failed = true;
              reportError(image, error);
            }
          }
        } finally {
          volume.close();
        }
        if (g.json) printJson(results);
        return failed ? ExitCode.ERROR : ExitCode.OK;
      });
    });
}
