/**
 * `diskkit cp [-r] SRC... DEST`: copies out of an image (IMAGE:/SRC -> host) or into
 * one (host -> IMAGE:/DEST), or between images (IMAGE:/A OTHER.img:/B, any formats). The direction is decided by which side names an image;
 * each direction lives in its own module (cp-out.ts, cp-in.ts).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { existsSync } from 'node:fs';
import { ErrorCode } from '../engine/errors.js';
import { type GlobalOptions, globalOptions, imageArgumentProblem, parseImageRef, runAction, usageError } from './context.js';
import { addIoOptions, scanOptionsFrom, type IoOptionValues } from './io-options.js';
import { ON_CLASH_HELP, parseClashPolicy, type ClashPolicy } from './name-clash.js';

export interface CpOptions extends IoOptionValues {
  recursive?: boolean;
  /** commander turns --no-clobber into clobber: false. */
  clobber?: boolean;
  invariant?: boolean;
  verbose?: boolean;
  preserve?: boolean;
  onClash?: ClashPolicy;
  dereference?: boolean;
  force?: boolean;
  compress?: string;
  deleted?: boolean;
}

function parseCompression(value: string): string {
  const codec = value.toLowerCase();
  if (codec !== 'lz4' && codec !== 'zstd' && codec !== 'none') throw new InvalidArgumentError(`--compress takes lz4, zstd or none, not '${value}'`);
  return codec;
}

export function define(program: Command): void {
  addIoOptions(
    program
      .command('cp')
      .description('copy files out of an image (IMAGE:/SRC HOST_DEST), into one (HOST_SRC IMAGE:/DEST), or between images of any format (A.img:/X B.img:/Y)')
      .argument('<paths...>', "SRC... DEST: DIR/. copies a directory's contents; an existing directory DEST receives SRC inside it")
      .option('-r, --recursive', 'copy directories recursively')
      .option('-n, --no-clobber', 'into an image: keep files that already exist')
      .option('-v, --verbose', "name each file as it is copied ('SRC' -> 'DEST', as cp -v)")
      .option('-p, --preserve', 'keep DOS attributes: as they are inside an image; read-only <-> no write permission on the host')
      .option('--invariant', 'into an image: reproducible output (times clamped to SOURCE_DATE_EPOCH, access/creation = modification)')
      .option('-f, --force', 'into an image: write even when the image file is read-only (chmod 444)')
      .option('-L, --dereference', 'into an image: follow symbolic links inside copied directories (default: skip each with a warning; FAT and Cartridge images hold no links)')
      .option('--on-clash <policy>', `into an image: ${ON_CLASH_HELP}`, parseClashPolicy, 'fail')
      .option('--compress <codec>', "into a Cartridge image: compress the copied files with lz4, zstd or none instead of the image's default", parseCompression)
      .option('--deleted', 'out of an image: also entries marked deleted (as ls --deleted lists them), their data recovered where the format allows; SRC may name one'),
  ).action((paths: string[], opts: CpOptions, command: Command) => runCp(paths, opts, globalOptions(command)));
}

/** The `cp` action (also run directly, without the command tree, by quick-start.ts for a plain `cp [-r] SRC... DEST`). */
export function runCp(paths: string[], opts: CpOptions, g: GlobalOptions): Promise<void> {
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
      // `A.img:/x missing.img:/y` (or `missing.img:/`) meant an image as the destination: say
      // it is missing (as for a host source) rather than create or fail on a host directory
      // called `missing.img:`; a host directory that already has that name still receives it.
      const destProblem = imageArgumentProblem(dest, 'cp takes IMAGE:/PATH');
      if (destProblem?.code === ErrorCode.NOT_FOUND && !existsSync(dest.slice(0, dest.indexOf(':/') + 1))) throw destProblem;
      const { copyOut } = await import('./cp-out.js');
      return copyOut(refs.map((r) => r!), dest, { recursive: Boolean(opts.recursive), read, stats: Boolean(opts.stats), verbose: opts.verbose, preserve: opts.preserve, deleted: opts.deleted }, g);
    }
    if (opts.deleted) throw usageError('--deleted is for copying out of an image (IMAGE:/SRC HOST_DEST)');
    const writeOptions = { recursive: Boolean(opts.recursive), noClobber: opts.clobber === false, invariant: Boolean(opts.invariant), verbose: opts.verbose, preserve: opts.preserve, onClash: opts.onClash, followLinks: Boolean(opts.dereference), force: Boolean(opts.force), compress: opts.compress };
    if (refs.every((r) => r === null) && destRef !== null) {
      const { copyIn } = await import('./cp-in.js');
      return copyIn(sources, destRef, writeOptions, g);
    }
    if (refs.every((r) => r !== null) && destRef !== null) {
      const { copyWithin } = await import('./cp-in.js');
      return copyWithin(refs.map((r) => r!), destRef, writeOptions, g);
    }
    if (destRef !== null) throw usageError('mix of host and image sources: copy host files and image files in separate commands');
    // Neither side is an image: say why when an argument was meant as one (a missing image, a path without '/').
    for (const arg of [dest, ...sources]) {
      const problem = imageArgumentProblem(arg, 'cp takes IMAGE:/PATH');
      if (problem) throw problem;
    }
    throw usageError('one side of cp must be IMAGE:/PATH (e.g. disk.img:/docs) and the other a host path');
  });
}
