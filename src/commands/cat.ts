/** `diskkit cat IMAGE:/PATH`: a file's bytes to stdout, read through scanExtents. */
import type { Command } from 'commander';
import { globalOptions, parseImageRef, runAction, usageError } from './context.js';
import { addReadOptions, readOptions } from './read-options.js';

export function define(program: Command): void {
  addReadOptions(
    program
      .command('cat')
      .description('write a file of the image to stdout')
      .argument('<image:/path>', 'the file, e.g. disk.img:/docs/readme.txt'),
  ).action((target: string, opts: { mode?: string; chunkSize?: string }, command: Command) => {
    const g = globalOptions(command);
    const ref = parseImageRef(target)!;
    return runAction(ref.image, async () => {
      if (!ref.explicitPath) throw usageError(`cat needs IMAGE:/PATH, e.g. ${target}:/file.txt`);
      const read = readOptions(opts);
      const [{ openVolume }, { scanExtents }, { writeAllSync }] = await Promise.all([
        import('../engine/open-volume.js'),
        import('../io/scan.js'),
        import('./stdout-writer.js'),
      ]);
      const volume = openVolume(ref.image, { partition: g.partition });
      try {
        const extents = volume.fileExtents(ref.path);
        await scanExtents(volume.source, extents, (chunk) => writeAllSync(1, chunk), { mode: read.mode, chunkSize: read.chunkSize });
      } finally {
        volume.close();
      }
    });
  });
}
