/** `diskkit rm [-r] IMAGE:/PATH...`: removes files (and with -r, directory trees) from an image. */
import type { Command } from 'commander';
import { editImage, globalOptions, oneImageRefs, parseImageRef, printJson, runAction, usageError } from './context.js';

export function define(program: Command): void {
  program
    .command('rm')
    .description('remove files or directories from an image')
    .argument('<paths...>', 'IMAGE:/PATH to remove')
    .option('-r, --recursive', 'remove directories and their contents')
    .option('-f, --force', 'ignore paths that do not exist')
    .action((paths: string[], opts: { recursive?: boolean; force?: boolean }, command: Command) => {
      const g = globalOptions(command);
      return runAction(parseImageRef(paths[0]!)?.image, async () => {
        const { image, refs } = oneImageRefs(paths, 'rm', 'e.g. disk.img:/old.txt');
        for (const ref of refs) {
          if (ref.path.split('/').every((p) => p === '' || p === '.')) throw usageError(`refusing to remove '/' of ${image}`);
        }
        const { DiskkitError, ErrorCode } = await import('../engine/errors.js');
        const removed: { path: string; type: string }[] = [];
        // What succeeded before an error is kept, as rm(1) keeps it.
        await editImage(image, g, (volume) => {
          for (const ref of refs) {
            try {
              const info = volume.stat(ref.path);
              volume.remove(ref.path, { recursive: Boolean(opts.recursive) });
              removed.push({ path: info.path, type: info.type });
            } catch (error) {
              if (opts.force && error instanceof DiskkitError && error.code === ErrorCode.NOT_FOUND) continue;
              throw error;
            }
          }
        });
        if (g.json) printJson({ removed });
      });
    });
}
