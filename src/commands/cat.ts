/**
 * `diskkit cat IMAGE:/PATH`: a file's bytes to stdout, read through scanExtents: raw
 * extents of the image where the format stores bytes as they are, else its reader.
 */
import type { Command } from 'commander';
import { type GlobalOptions, globalOptions, imageArgumentProblem, parseImageRef, runAction, slashedFileError, usageError } from './context.js';
import { addIoOptions, printScanStats, scanOptionsFrom, withInterrupt, type IoOptionValues } from './io-options.js';

export function define(program: Command): void {
  addIoOptions(
    program
      .command('cat')
      .description('write a file of the image to stdout')
      .argument('<image:/path>', 'the file, e.g. disk.img:/docs/readme.txt')
      .option('--deleted', 'the path may name an entry marked deleted (as ls --deleted lists it): its data is recovered where the format allows'),
  ).action((target: string, opts: CatOptions, command: Command) => runCat(target, opts, globalOptions(command)));
}

export interface CatOptions extends IoOptionValues {
  deleted?: boolean;
}

/** The action of `cat` (also run by quick-start.ts for a plain `cat IMAGE:/PATH`). */
export function runCat(target: string, opts: CatOptions, g: GlobalOptions): Promise<void> {
  const ref = parseImageRef(target)!;
  return runAction(ref.image, async () => {
    if (!ref.explicitPath) throw imageArgumentProblem(target, 'cat needs IMAGE:/PATH') ?? usageError(`cat needs IMAGE:/PATH, e.g. ${target}:/file.txt`);
    const [{ openVolume }, { scanExtents }, { writeAllSync }] = await Promise.all([
      import('../engine/open-volume.js'),
      import('../io/scan.js'),
      import('./stdout-writer.js'),
    ]);
    const { fileScanOf } = await import('../engine/extent-reader.js');
    const volume = await openVolume(ref.image, { partition: g.partition });
    try {
      const file = opts.deleted ? (await import('../engine/deleted-path.js')).statIncludingDeleted(volume, ref.path) : ref.mustBeDir ? volume.stat(ref.path) : ref.path;
      // (cat of a directory is refused by the reader; `file/` is refused before it.)
      const slashed = typeof file === 'string' ? null : slashedFileError(ref, file);
      if (slashed) throw slashed;
      const { source, extents } = fileScanOf(volume, file);
      const result = await withInterrupt((signal) => scanExtents(source, extents, (chunk) => writeAllSync(1, chunk), { ...scanOptionsFrom(opts), signal, caches: () => volume.cacheStats?.() ?? {} }));
      if (opts.stats) printScanStats(result);
    } finally {
      volume.close();
    }
  });
}
