/**
 * `diskkit cp [-r] SRC... DEST`: copies out of an image (IMAGE:/SRC -> host) or into
 * one (host -> IMAGE:/DEST). The direction is decided by which side names an image;
 * each direction lives in its own module (cp-out.ts, cp-in.ts).
 */
import type { Command } from 'commander';
import { globalOptions, parseImageRef, runAction, usageError } from './context.js';
import { addReadOptions, readOptions } from './read-options.js';

export interface CpOptions {
  recursive?: boolean;
  mode?: string;
  chunkSize?: string;
}

export function define(program: Command): void {
  addReadOptions(
    program
      .command('cp')
      .description('copy files out of an image (IMAGE:/SRC HOST_DEST) or into one')
      .argument('<paths...>', 'SRC... DEST: IMAGE:/PATH sources (IMAGE:/DIR/. or IMAGE:/ copy a directory\'s contents) and a host destination')
      .option('-r, --recursive', 'copy directories recursively'),
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
      const read = readOptions(opts);
      if (refs.every((r) => r !== null) && destRef === null) {
        const { copyOut } = await import('./cp-out.js');
        return copyOut(refs.map((r) => r!), dest, { recursive: Boolean(opts.recursive), read }, g);
      }
      if (refs.every((r) => r === null) && destRef !== null) {
        const { copyIn } = await import('./cp-in.js');
        return copyIn(sources, destRef, { recursive: Boolean(opts.recursive) }, g);
      }
      if (destRef !== null) throw usageError('copying from one image to another is not supported; copy out to the host first');
      throw usageError('one side of cp must be IMAGE:/PATH (e.g. disk.img:/docs) and the other a host path');
    });
  });
}
