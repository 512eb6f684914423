/** `diskkit rm [-r] IMAGE:/PATH...`: removes files (and with -r, directory trees) from an image. */
import type { Command } from 'commander';
import { editImage, globalOptions, oneImageRefs, parseImageRef, printJson, reportError, runAction, usageError } from './context.js';
import { ExitCode } from './exit-codes.js';

export function define(program: Command): void {
  program
    .command('rm')
    .description('remove files or directories from an image')
    .argument('<paths...>', 'IMAGE:/PATH to remove')
    .option('-r, --recursive', 'remove directories and their contents')
    .option('-f, --force', 'ignore paths that do not exist; write even to a read-only image file')
    .action((paths: string[], opts: { recursive?: boolean; force?: boolean }, command: Command) => {
      const g = globalOptions(command);
      return runAction(parseImageRef(paths[0]!)?.image, async () => {
        const { image, refs } = oneImageRefs(paths, 'rm', 'e.g. disk.img:/old.txt');
        for (const ref of refs) {
          if (ref.path.split('/').every((p) => p === '' || p === '.')) throw usageError(`refusing to remove '/' of ${image}`);
        }
        const { DiskkitError, ErrorCode } = await import('../engine/errors.js');
        const removed: { path: string; type: string }[] = [];
        // As rm(1): an operand that cannot be removed is reported, the others are still removed, and the exit code is 1.
        const errors: { path: string; code: string; message: string }[] = [];
        await editImage(image, g, Boolean(opts.force), (volume) => {
          for (const ref of refs) {
            try {
              const info = volume.stat(ref.path);
              // rm(1): 'PATH/' names a directory; a file of that name is not removed.
              if (ref.mustBeDir && info.type !== 'dir') throw new DiskkitError(ErrorCode.NOT_A_DIRECTORY, `cannot remove '${ref.path}/': not a directory`, { context: { path: ref.path } });
              volume.remove(ref.path, { recursive: Boolean(opts.recursive) });
              removed.push({ path: info.path, type: info.type });
            } catch (error) {
              if (opts.force && error instanceof DiskkitError && error.code === ErrorCode.NOT_FOUND) continue;
              if (!(error instanceof DiskkitError) || error.code === ErrorCode.IO) throw error;
              errors.push({ path: (error.context.path as string | undefined) ?? ref.path, code: error.code, message: error.message });
              if (!g.json) reportError(image, error);
            }
          }
        });
        if (g.json) printJson({ removed, errors });
        return errors.length > 0 ? ExitCode.ERROR : ExitCode.OK;
      });
    });
}
