/** `diskkit rm [-r] IMAGE:/PATH...`: removes files (and with -r, directory trees) from an image. */
import type { Command } from 'commander';
import { globalOptions, parseImageRef, printJson, runAction, usageError } from './context.js';

export function define(program: Command): void {
  program
    .command('rm')
    .description('remove files or directories from an image')
    .argument('<paths...>', 'IMAGE:/PATH to remove')
    .option('-r, --recursive', 'remove directories and their contents')
    .option('-f, --force', 'ignore paths that do not exist')
    .action((paths: string[], opts: { recursive?: boolean; force?: boolean }, command: Command) => {
      const g = globalOptions(command);
      const refs = paths.map((p) => parseImageRef(p));
      const image = refs[0]?.image;
      return runAction(image, async () => {
        if (refs.some((r) => !r || !r.explicitPath)) throw usageError('rm takes IMAGE:/PATH arguments (e.g. disk.img:/old.txt)');
        if (refs.some((r) => r!.image !== image)) throw usageError('rm works on one image at a time');
        for (const ref of refs) {
          if (ref!.path.split('/').every((p) => p === '' || p === '.')) throw usageError(`refusing to remove '/' of ${image}`);
        }
        const { openVolume } = await import('../engine/open-volume.js');
        const { DiskkitError, ErrorCode } = await import('../engine/errors.js');
        const volume = openVolume(image!, { partition: g.partition, writable: true });
        const removed: { path: string; type: string }[] = [];
        try {
          for (const ref of refs) {
            try {
              const info = volume.stat(ref!.path);
              volume.remove(ref!.path, { recursive: Boolean(opts.recursive) });
              removed.push({ path: info.path, type: info.type });
            } catch (error) {
              if (opts.force && error instanceof DiskkitError && error.code === ErrorCode.NOT_FOUND) continue;
              throw error;
            }
          }
        } finally {
          // What succeeded before an error is kept, as rm(1)/mv(1) keep it.
          try {
            volume.commit();
          } finally {
            volume.close();
          }
        }
        if (g.json) printJson({ removed });
      });
    });
}
