/**
 * `diskkit mv IMAGE:/SRC... IMAGE:/DEST`: renames or moves entries inside one image,
 * with mv(1) semantics: an existing directory DEST receives SRC inside it; an
 * existing file DEST is replaced by a file SRC. Moving a directory fixes its '..'.
 */
import type { Command } from 'commander';
import { editImage, globalOptions, oneImageRefs, parseImageRef, printJson, runAction, usageError } from './context.js';

export function define(program: Command): void {
  program
    .command('mv')
    .description('rename or move files and directories inside an image')
    .argument('<paths...>', 'IMAGE:/SRC... IMAGE:/DEST')
    .option('-f, --force', 'write even when the image file is read-only (chmod 444)')
    .action((paths: string[], opts: { force?: boolean }, command: Command) => {
      const g = globalOptions(command);
      return runAction(parseImageRef(paths[0]!)?.image, async () => {
        if (paths.length < 2) throw usageError('mv needs a source and a destination: mv IMAGE:/SRC IMAGE:/DEST');
        const { image, refs } = oneImageRefs(paths, 'mv', 'e.g. disk.img:/a.txt disk.img:/b.txt', '; use cp to copy between images');
        const { DiskkitError, ErrorCode } = await import('../engine/errors.js');
        const { joinPath, pathKey } = await import('../engine/volume-path.js');
        const moved: { from: string; to: string }[] = [];
        // What succeeded before an error is kept, as mv(1) keeps it.
        await editImage(image, g, Boolean(opts.force), (volume) => {
          const dest = refs[refs.length - 1]!.path;
          let destInfo = null;
          try {
            destInfo = volume.stat(dest);
          } catch (error) {
            if (!(error instanceof DiskkitError && error.code === ErrorCode.NOT_FOUND)) throw error;
          }
          const sources = refs.slice(0, -1).map((r) => r.path);
          if (sources.length > 1 && destInfo?.type !== 'dir') throw usageError(`target '${dest}' is not a directory`);
          for (const src of sources) {
            const info = volume.stat(src);
            if (info.path === '/') throw usageError('cannot move the root directory');
            // An existing directory receives SRC inside it, unless it is SRC itself (a case-only rename).
            const into = destInfo?.type === 'dir' && pathKey(volume, destInfo.path) !== pathKey(volume, info.path);
            const to = into ? joinPath(destInfo!.path, info.name) : dest;
            // mv(1): 'DEST/' must be a directory unless a directory is being renamed to it.
            if (!into && refs[refs.length - 1]!.mustBeDir && (destInfo !== null || info.type !== 'dir')) {
              throw new DiskkitError(ErrorCode.NOT_A_DIRECTORY, `cannot move '${info.path}' to '${dest}/': not a directory`, { context: { path: dest } });
            }
            const result = volume.rename(info.path, to);
            moved.push({ from: info.path, to: result.path });
          }
        });
        if (g.json) printJson({ moved });
      });
    });
}
