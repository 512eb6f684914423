/**
 * `diskkit mkfs IMAGE --size SIZE`: make a file system (FAT12/16/32 by default; --type
 * picks the format) in a new sparse image (or, with --force, in an existing file,
 * device or partition). Parses the options, opens the target, and hands both to the
 * format's mkfs hook (E_UNSUPPORTED for a format that has none); prints what it made.
 */
import type { Command } from 'commander';
import type { MkfsRequest } from '../engine/formats.js';
import { count, escapeName, globalOptions, printJson, refuseReadOnlyImage, runAction, usageError, warn, type GlobalOptions } from './context.js';
import { ON_CLASH_HELP, parseClashPolicy, type ClashPolicy } from './name-clash.js';

export interface MkfsFlags {
  size?: string;
  type?: string;
  clusterSize?: string;
  sectorSize?: string;
  fats?: string;
  label?: string;
  volumeId?: string;
  force?: boolean;
  invariant?: boolean;
  from?: string;
  headroom?: string;
  rootEntries?: string;
  /** mkfs.fat spellings, mapped by mkfs-flags.ts. */
  F?: string;
  s?: string;
  S?: string;
  i?: string;
  C?: boolean;
  onClash?: ClashPolicy;
  compress?: string;
  encrypt?: boolean;
  checksum?: string;
}

/** Floppy sizes as sold ("1.44 MB" is 1440 KiB: marketing megabytes of 1000 KiB). */
const FLOPPY_NICKNAMES: Record<string, number> = { '1.44M': 1440, '2.88M': 2880, '1.2M': 1200 };
const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** Parses 4096, 64K, 32M, 1.5G, 1T (binary units; a trailing "iB" or "B" is accepted). */
export function parseSize(text: string, what: string): number {
  const nickname = FLOPPY_NICKNAMES[text.toUpperCase().replace(/I?B$/, '')];
  if (nickname !== undefined) return nickname * 1024;
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (!m) throw usageError(`${what} '${text}' is not a size (examples: 4096, 64K, 32M, 2G, 1T)`);
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2]!.toUpperCase()]!);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw usageError(`${what} '${text}' is out of range`);
  return bytes;
}

/** The format --type names: fat12/16/32 are variants of 'fat'; any other name is a registered format. */
function formatNameOf(type: string | undefined): string {
  if (type === undefined) return 'fat';
  return /^fat(12|16|32)?$/i.test(type) ? 'fat' : type.toLowerCase();
}

function parseChoice(text: string, choices: number[], flag: string): number {
  const n = Number(text);
  if (!choices.includes(n)) throw usageError(`${flag} must be ${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}, not '${text}'`);
  return n;
}

/** SOURCE_DATE_EPOCH (reproducible-builds.org): seconds since 1970, or undefined when unset. */
function sourceDateEpoch(): number | undefined {
  const raw = process.env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) throw usageError(`SOURCE_DATE_EPOCH must be a whole number of seconds, not '${raw}'`);
  // Past year 9999 a Date is invalid; FAT clamps at 2107 anyway.
  return Math.min(Number(raw), 253402300799);
}

/** Parses a headroom like '10%', '10' or '0.1' into a fraction. */
function parseHeadroom(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(%?)$/.exec(text.trim());
  if (!m) throw usageError(`--headroom '${text}' is not a percentage (e.g. 10%)`);
  const n = Number(m[1]);
  const fraction = m[2] === '%' || n >= 1 ? n / 100 : n;
  if (fraction > 10) throw usageError(`--headroom '${text}' is more than 1000%`);
  return fraction;
}

export function define(program: Command): void {
  program
    .command('mkfs')
    .description('make a FAT12/16/32 file system in a new sparse image (layout chosen as mkfs.fat does), or a Cartridge image (--type cartridge)')
    .argument('<image>', 'image file to create (or, with --force, to format in place)')
    .argument('[blocks]', 'size in KiB blocks, as mkfs.fat BLOCK_COUNT (same as --size NK)')
    .option('--size <size>', 'image size: bytes, or with a K, M, G or T suffix (binary); 1.44M etc. for floppies')
    .option('--type <type>', 'fat12, fat16 or fat32 (default: chosen by size, as mkfs.fat); another format by name')
    .option('--cluster-size <bytes>', 'cluster size in bytes, a power of two up to 64K (default: chosen by size)')
    .option('--sector-size <bytes>', 'logical sector size: 512, 1024, 2048 or 4096', '512')
    .option('--fats <n>', 'number of FAT copies: 1 or 2', '2')
    .option('-n, --label <name>', 'volume label (up to 11 characters; stored in upper case)')
    .option('--volume-id <hex>', 'volume serial number, 8 hex digits (default: random)')
    .option('--force', 'format an existing non-empty file or a device (its contents are lost)')
    .option('--invariant', 'reproducible output: fixed volume id and timestamps (also when SOURCE_DATE_EPOCH is set)')
    .option('--from <dir>', 'fill the new image with the contents of a host directory (like cp -r DIR/. IMAGE:/)')
    .option('-r, --root-entries <n>', 'FAT12/16 root directory entries (default 512; 224 or 112 on floppies), as mkfs.fat -r')
    .option('-F <bits>', 'mkfs.fat spelling of --type: 12, 16 or 32')
    .option('-s <sectors>', 'mkfs.fat spelling of the cluster size, in sectors per cluster')
    .option('-S <bytes>', 'mkfs.fat spelling of --sector-size')
    .option('-i <hex>', 'mkfs.fat spelling of --volume-id')
    .option('-C', 'accepted for mkfs.fat -C (diskkit always creates the image file)')
    .option('--headroom <percent>', "with --from and --size auto (the default): free space to add, e.g. 10%", '10%')
    .option('--on-clash <policy>', `with --from: ${ON_CLASH_HELP}`, parseClashPolicy, 'fail')
    .option('--compress <codec>', 'cartridge: extent compression, lz4 (default), zstd or none')
    .option('--encrypt', 'cartridge: encrypt with AES-256-GCM; passphrase from DISKKIT_PASSPHRASE, --key-file or a prompt')
    .option('--checksum <algorithm>', 'cartridge: page and extent checksums, crc32 (default) or sha256')
    .addHelpText(
      'after',
      '\nExamples:\n  diskkit mkfs floppy.img --size 1.44M --label BOOT\n  diskkit mkfs disk.img --size 32G\n  diskkit mkfs small.img --size 64M --type fat32 --cluster-size 512\n  diskkit mkfs stick.img --from ./files --size auto --headroom 20%\n  diskkit mkfs fw.cart --type cartridge --compress zstd --from ./rootfs\n  diskkit mkfs -C -F 12 -n BOOT -s 4 -r 112 floppy.img 1440   (mkfs.fat spelling)',
    )
    .action((image: string, blocks: string | undefined, flags: MkfsFlags, command: Command) => runMkfs(image, blocks, flags, globalOptions(command)));
}

/** The `mkfs` action (also run directly, without the command tree, by quick-start.ts). */
export function runMkfs(image: string, blocks: string | undefined, flags: MkfsFlags, options: GlobalOptions): Promise<void> {
  return runAction(image, async () => {
    (await import('./mkfs-flags.js')).applyMkfsFatSpellings(flags, blocks);
    return mkfs(image, flags, options);
  });
}

async function mkfs(image: string, flags: MkfsFlags, options: GlobalOptions): Promise<number> {
  // Validate everything before touching the file system.
  // Auto sizing makes a new image file just big enough; a partition is filled whole.
  if (flags.size === 'auto' && options.partition !== undefined) throw usageError(`--size auto sizes a new image file; with --partition the file system fills partition ${options.partition} (or give --size)`);
  const auto = flags.from !== undefined && options.partition === undefined && (flags.size === undefined || flags.size === 'auto');
  if (flags.size === 'auto' && flags.from === undefined) throw usageError('--size auto needs --from DIR');
  const size = auto || flags.size === undefined ? undefined : parseSize(flags.size, '--size');
  const headroom = parseHeadroom(flags.headroom ?? '10%');
  if (flags.from !== undefined) {
    const { statSync } = await import('node:fs');
    let isDir = false;
    try {
      isDir = statSync(flags.from).isDirectory();
    } catch {
      isDir = false;
    }
    if (!isDir) throw usageError(`--from '${flags.from}' is not a directory`);
  }
  const epoch = sourceDateEpoch();
  const request: MkfsRequest = {
    image,
    partition: options.partition,
    size,
    from: flags.from === undefined ? undefined : { dir: flags.from, headroom },
    variant: flags.type,
    clusterSize: flags.clusterSize === undefined ? undefined : parseSize(flags.clusterSize, '--cluster-size'),
    sectorSize: parseChoice(flags.sectorSize ?? '512', [512, 1024, 2048, 4096], '--sector-size'),
    tableCopies: parseChoice(flags.fats ?? '2', [1, 2], '--fats'),
    label: flags.label ?? '',
    volumeId: flags.volumeId,
    rootEntries: (await import('./mkfs-flags.js')).parseRootEntries(flags.rootEntries, flags.type),
    force: Boolean(flags.force),
    reproducible: Boolean(flags.invariant) || epoch !== undefined,
    epoch,
    compression: flags.compress,
    encrypt: flags.encrypt,
    checksum: flags.checksum,
  };
  const formatName = formatNameOf(flags.type);
  if (formatName !== 'cartridge' && (flags.compress !== undefined || flags.encrypt || flags.checksum !== undefined)) {
    throw usageError('--compress, --encrypt and --checksum are for --type cartridge');
  }

  // Loaded together: start-up is most of what a mkfs costs.
  const [{ requireFormat, requireHook }, { openFormatTarget, holdTargetJournal, finishMkfs, removeCreatedTarget }, { formatBytes }] = await Promise.all([
    import('../engine/formats.js'),
    import('../engine/mkfs-target.js'),
    import('../engine/byte-size.js'),
  ]);
  const hook = requireHook(requireFormat(formatName), 'mkfs');
  // The size is settled (and the layout checked) before anything is created, so a refused layout leaves no file behind.
  request.size = await hook.plan(request);
  if (hook.create) {
    let made;
    try {
      made = await hook.create(request);
    } catch (error) {
      // Each problem of a failed --from import on its own line, as cp -r lists them.
      const { isDiskkitError, DiskkitError } = await import('../engine/errors.js');
      const problems = isDiskkitError(error) && Array.isArray(error.context.errors) ? (error.context.errors as { path: string; code: string; message: string }[]) : [];
      if (!options.json) for (const e of problems) (await import('./context.js')).reportError(image, new DiskkitError(e.code as never, e.message, { context: { path: e.path } }));
      throw error;
    }
    return printMade(image, options, made, flags.from);
  }

  if (options.partition !== undefined) refuseReadOnlyImage(image, request.force);
  const target = await openFormatTarget(image, { partition: options.partition, size: request.size, force: request.force });
  // One journal covers the format and the --from fill: a failure or a crash leaves the image as it was (or no image).
  holdTargetJournal(image, target.source);
  let made;
  try {
    made = await hook.format(target, request);
  } catch (error) {
    target.source.close();
    // A half-made new image is worse than none.
    finishMkfs(image, false);
    throw error;
  }
  target.source.close();

  let filled: { files: number; directories: number; bytes: number; skipped: { path: string; reason: string }[] } | null = null;
  try {
    if (flags.from !== undefined) {
      const { copyIntoNewImage } = await import('./cp-in.js');
      const { files, directories, bytes, errors, skipped, renamed } = await copyIntoNewImage(flags.from, image, { invariant: request.reproducible, onClash: flags.onClash }, options);
      // An image that is not the tree is a failure: every problem is listed, and the journal puts the target back.
      if (errors.length > 0) throw await fillFailure(image, flags.from, errors, target.fresh, options);
      // What was left out on purpose (symbolic links, --on-clash skip) is said, never silent.
      for (const s of skipped) warn(options, image, `${s.path}: ${s.reason}`);
      // So is a name FAT cannot store, stored as it can (cp's warning line).
      for (const r of renamed) warn(options, image, escapeName(`${r.from}: stored as ${JSON.stringify(r.path.slice(r.path.lastIndexOf('/') + 1))} (${r.reason})`));
      filled = { files, directories, bytes, skipped };
    }
    finishMkfs(image, true);
  } catch (error) {
    finishMkfs(image, false);
    // The rollback leaves no new image behind; an empty file given as the target is empty again.
    if (target.created) removeCreatedTarget(image);
    else if (target.fresh) await truncateBack(image);
    throw error;
  }

  const partition = options.partition ?? null;
  if (options.json) {
    // One spelling of the FAT type, as info and fsck write it (FAT12, FAT16, FAT32).
    const fields = made.fields as Record<string, unknown>;
    printJson({ image, partition, ...fields, ...(typeof fields.fatType === 'string' ? { fatType: fields.fatType.toUpperCase() } : {}), from: flags.from ?? null, filled });
    return 0;
  }
  for (const w of made.warnings) warn(options, image, w);
  if (!options.quiet) {
    process.stdout.write(`${image}${partition === null ? '' : ` partition ${partition}`}: ${made.summary}\n`);
    if (filled) process.stdout.write(`${image}: copied ${count(filled.files, 'file')} and ${count(filled.directories, 'directory', 'directories')} (${formatBytes(filled.bytes)}) from ${flags.from}\n`);
  }
  return 0;
}

/** What a format's `create` hook made (Cartridge), printed as the FAT path prints it. */
async function printMade(image: string, options: GlobalOptions, made: import('../engine/formats.js').MkfsOutcome & { filled: import('../engine/formats.js').MkfsFilled | null }, from: string | undefined): Promise<number> {
  const { formatBytes } = await import('../engine/byte-size.js');
  if (options.json) {
    printJson({ image, partition: null, ...made.fields, from: from ?? null, filled: made.filled });
    return 0;
  }
  for (const w of made.warnings) warn(options, image, w);
  for (const s of made.filled?.skipped ?? []) warn(options, image, `${s.path}: ${s.reason}`);
  if (!options.quiet) {
    process.stdout.write(`${image}: ${made.summary}\n`);
    const filled = made.filled;
    if (filled) process.stdout.write(`${image}: copied ${count(filled.files, 'file')} and ${count(filled.directories, 'directory', 'directories')} (${formatBytes(filled.bytes)}) from ${from}\n`);
  }
  return 0;
}

/** An image that existed empty before mkfs goes back to empty. */
async function truncateBack(image: string): Promise<void> {
  const { truncateSync } = await import('node:fs');
  try {
    truncateSync(image, 0);
  } catch {
    // reported through the fill failure; the image is what it is
  }
}

/** Prints each problem of a failed `--from` fill (as cp -r does) and returns the error that ends the command. */
async function fillFailure(image: string, from: string, errors: { path: string; code: string; message: string }[], fresh: boolean, options: GlobalOptions): Promise<Error> {
  const [{ DiskkitError, ErrorCode }, { reportError }] = await Promise.all([import('../engine/errors.js'), import('./context.js')]);
  if (!options.json) for (const e of errors) reportError(image, new DiskkitError(e.code as never, e.message, { context: { path: e.path } }));
  const code = errors[0]!.code as (typeof ErrorCode)[keyof typeof ErrorCode];
  const left = fresh ? 'no image was left' : `the ${options.partition === undefined ? 'image' : `partition ${options.partition}`} is formatted but not filled`;
  return new DiskkitError(code, `${errors.length} ${errors.length === 1 ? 'problem' : 'problems'} copying '${from}'; ${left}`, { context: { errors } });
}
