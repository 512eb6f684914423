/**
 * `diskkit cp [-r] SRC... DEST`: copies out of an image (IMAGE:/SRC -> host) or into
 * one (host -> IMAGE:/DEST), or between images (IMAGE:/A OTHER.img:/B, any formats). The direction is decided by which side names an image;
 * each direction lives in its own module (cp-out.ts, cp-in.ts).
 */
import type { Command } from 'commander';
import { globalOptions, parseImageRef, runAction, usageError } from './context.js';
import { addIoOptions, scanOptionsFrom, type IoOptionValues } from './io-options.js';

export interface CpOptions extends IoOptionValues {
  recursive?: boolean;
  /** commander turns --no-clobber into clobber: false. */
  clobber?: boolean;
  invariant?: boolean;
}

export function define(program: Command): void {
  addIoOptions(
    program
      .command('cp')
      .description('copy files out of an image (IMAGE:/SRC HOST_DEST), into one (HOST_SRC IMAGE:/DEST), or between images of any format (A.img:/X B.img:/Y)')
      .argument('<paths...>', "SRC... DEST: DIR/. copies a directory's contents; an existing directory DEST receives SRC inside it")
      .option('-r, --recursive', 'copy directories recursively')
      .option('-n, --no-clobber', 'into an image: keep files that already exist')
      .option('--invariant', 'into an image: reproducible output (times clamped to SOURCE_DATE_EPOCH, access/creation = modification)'),
  ).action((paths: string[], opts: CpOptions, command: Command) => {
    const g = globalOptions(command);
    if (paths.length < 2) return runAction(undefined, () => {
      throw usageError('cp needs a source and a destination: cp [-r] IMAGE:/SRC HOST_DEST');
    });
    const sources = paths.slice(0, -1);
    const dest = paths[paths.length - 1]!;
    const refs = sources.map((s) => parseImageRef(s, false));
    const destRef = parseImageRef(dest, false);
    const image = refs.find((r) => r !== null)?.image ?? destRef?.image;
    return runAction(image, async () => {
      const read = scanOptionsFrom(opts);
      if (refs.every((r) => r !== null) && destRef === null) {
        const { copyOut } = await import('./cp-out.js');
        return copyOut(refs.map((r) => r!), dest, { recursive: Boolean(opts.recursive), read, stats: Boolean(opts.stats) }, g);
      }
      const writeOptions = { recursive: Boolean(opts.recursive), noClobber: opts.clobber === false, invariant: Boolean(opts.invariant) };
      if (refs.every((r) => r === null) && destRef !== null) {
        const { copyIn } = await import('./cp-in.js');
        return copyIn(sources, destRef, writeOptions, g);
      }
      if (refs.every((r) => r !== null) && destRef !== null) {
        const { copyWithin } = await import('./cp-in.js');
        return copyWithin(refs.map((r) => r!), destRef, writeOptions, g);
      }
      if (destRef !== null) throw usageError('mix of host and image sources: copy host files and image files in separate commands');
      throw usageError('one side of cp must be IMAGE:/PATH (e.g. disk.img:/docs) and the other a host path');
    });
  });
}
