/** `diskkit mkdir [-p] IMAGE:/PATH...`: makes directories inside an image. */
import type { Command } from 'commander';
import { globalOptions, parseImageRef, printJson, runAction, usageError } from './context.js';

export function define(program: Command): void {
  program
    .command('mkdir')
    .description('make directories inside an image')
    .argument('<paths...>', 'IMAGE:/PATH to create')
    .option('-p, --parents', 'make parent directories as needed; no error if the directory exists')
    .option('--invariant', 'reproducible output (times from SOURCE_DATE_EPOCH, else 1980-01-01)')
    .action((paths: string[], opts: { parents?: boolean; invariant?: boolean }, command: Command) => {
      const g = globalOptions(command);
      const refs = paths.map((p) => parseImageRef(p));
      const image = refs[0]?.image;
      return runAction(image, async () => {
        if (refs.some((r) => !r || !r.explicitPath)) throw usageError('mkdir takes IMAGE:/PATH arguments (e.g. disk.img:/docs)');
        if (refs.some((r) => r!.image !== image)) throw usageError('mkdir works on one image at a time');
        const { openVolume } = await import('../engine/open-volume.js');
        const { timePolicy } = await import('./write-times.js');
        const times = timePolicy(Boolean(opts.invariant));
        const volume = openVolume(image!, { partition: g.partition, writable: true });
        const created: { path: string }[] = [];
        try {
          for (const ref of refs) {
            const info = volume.mkdir(ref!.path, { parents: Boolean(opts.parents), mtime: times.now() });
            created.push({ path: info.path });
          }
        } finally {
          // Directories made before an error are kept, as mkdir(1) keeps them.
          try {
            volume.commit();
          } finally {
            volume.close();
          }
        }
        if (g.json) printJson({ created });
      });
    });
}
