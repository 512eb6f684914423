/** `diskkit mkdir [-p] IMAGE:/PATH...`: makes directories inside an image. */
import type { Command } from 'commander';
import { editImage, globalOptions, oneImageRefs, parseImageRef, printJson, runAction } from './context.js';

export function define(program: Command): void {
  program
    .command('mkdir')
    .description('make directories inside an image')
    .argument('<paths...>', 'IMAGE:/PATH to create')
    .option('-p, --parents', 'make parent directories as needed; no error if the directory exists')
    .option('--invariant', 'reproducible output (times from SOURCE_DATE_EPOCH, else 1980-01-01)')
    .option('-f, --force', 'write even when the image file is read-only (chmod 444)')
    .action((paths: string[], opts: { parents?: boolean; invariant?: boolean; force?: boolean }, command: Command) => {
      const g = globalOptions(command);
      return runAction(parseImageRef(paths[0]!)?.image, async () => {
        const { image, refs } = oneImageRefs(paths, 'mkdir', 'e.g. disk.img:/docs');
        const { timePolicy } = await import('./write-times.js');
        const times = timePolicy(Boolean(opts.invariant));
        const created: { path: string }[] = [];
        // Directories made before an error are kept, as mkdir(1) keeps them.
        await editImage(image, g, Boolean(opts.force), (volume) => {
          for (const ref of refs) created.push({ path: volume.mkdir(ref.path, { parents: Boolean(opts.parents), mtime: times.now() }).path });
        });
        if (g.json) printJson({ created });
      });
    });
}
