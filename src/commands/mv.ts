/**
 * `diskkit mv IMAGE:/SRC... IMAGE:/DEST`: renames or moves entries inside one image,
 * with mv(1) semantics: an existing directory DEST receives SRC inside it; an
 * existing file DEST is replaced by a file SRC. Moving a directory fixes its '..'.
 */
import type { Command } from 'commander';
import { globalOptions, parseImageRef, printJson, runAction, usageError } from './context.js';

export function define(program: Command): void {
  program
    .command('mv')
    .description('rename or move files and directories inside an image')
    .argument('<paths...>', 'IMAGE:/SRC... IMAGE:/DEST')
    .action((paths: string[], _opts: unknown, command: Command) => {
      const g = globalOptions(command);
      const refs = paths.map((p) => parseImageRef(p));
      const image = refs[0]?.image;
      return runAction(image, async () => {
        if (paths.length < 2) throw usageError('mv needs a source and a destination: mv IMAGE:/SRC IMAGE:/DEST');
        if (refs.some((r) => !r || !r.explicitPath)) throw usageError('mv takes IMAGE:/PATH arguments (e.g. disk.img:/a.txt disk.img:/b.txt)');
        if (refs.some((r) => r!.image !== image)) throw usageError('mv works inside one image; use cp to copy between images and the host');
        const { openVolume } = await import('../engine/open-volume.js');
        const { DiskkitError, ErrorCode } = await import('../engine/errors.js');
        const { joinPath, pathKey } = await import('../engine/volume-path.js');
        const volume = openVolume(image!, { partition: g.partition, writable: true });
        const moved: { from: string; to: string }[] = [];
        try {
          const dest = refs[refs.length - 1]!.path;
          let destInfo = null;
          try {
            destInfo = volume.stat(dest);
          } catch (error) {
            if (!(error instanceof DiskkitError && error.code === ErrorCode.NOT_FOUND)) throw error;
          }
          const sources = refs.slice(0, -1).map((r) => r!.path);
          if (sources.length > 1 && destInfo?.type !== 'dir') throw usageError(`target '${dest}' is not a directory`);
          for (const src of sources) {
            const info = volume.stat(src);
            if (info.path === '/') throw usageError('cannot move the root directory');
            // An existing directory receives SRC inside it, unless it is SRC itself (a case-only rename).
            const into = destInfo?.type === 'dir' && pathKey(volume, destInfo.path) !== pathKey(volume, info.path);
            const to = into ? joinPath(destInfo!.path, info.name) : dest;
            const result = volume.rename(info.path, to);
            moved.push({ from: info.path, to: result.path });
          }
        } finally {
          // What succeeded before an error is kept, as rm(1)/mv(1) keep it.
          try {
            volume.commit();
          } finally {
            volume.close();
          }
        }
        if (g.json) printJson({ moved });
      });
    });
}
