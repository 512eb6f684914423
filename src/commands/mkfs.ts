/**
 * `diskkit mkfs IMAGE --size SIZE`: make a FAT12/16/32 file system in a new sparse
 * image (or, with --force, in an existing file or device). Parses and validates the
 * options, asks the engine for a layout, formats, and reports the layout.
 */
import type { Command } from 'commander';
import { globalOptions, printJson, runAction, usageError, warn } from './context.js';

interface MkfsFlags {
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

function parseFatType(text: string): 'fat12' | 'fat16' | 'fat32' {
  const t = text.toLowerCase().replace(/^fat/, '');
  if (t === '12' || t === '16' || t === '32') return `fat${t}`;
  throw usageError(`--type must be fat12, fat16 or fat32, not '${text}'`);
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

/** Label-entry time for --invariant without SOURCE_DATE_EPOCH: 2000-01-01 00:00:00 UTC. */
const INVARIANT_EPOCH = 946684800;

export function define(program: Command): void {
  program
    .command('mkfs')
    .description('make a FAT12/16/32 file system in a new sparse image (layout chosen as mkfs.fat does)')
    .argument('<image>', 'image file to create (or, with --force, to format in place)')
    .option('--size <size>', 'image size: bytes, or with a K, M, G or T suffix (binary); 1.44M etc. for floppies')
    .option('--type <type>', 'fat12, fat16 or fat32 (default: chosen by size, as mkfs.fat)')
    .option('--cluster-size <bytes>', 'cluster size in bytes, a power of two up to 64K (default: chosen by size)')
    .option('--sector-size <bytes>', 'logical sector size: 512, 1024, 2048 or 4096', '512')
    .option('--fats <n>', 'number of FAT copies: 1 or 2', '2')
    .option('-n, --label <name>', 'volume label (up to 11 characters; stored in upper case)')
    .option('--volume-id <hex>', 'volume serial number, 8 hex digits (default: random)')
    .option('--force', 'format an existing non-empty file or a device (its contents are lost)')
    .option('--invariant', 'reproducible output: fixed volume id and timestamps (also when SOURCE_DATE_EPOCH is set)')
    .option('--from <dir>', 'fill the new image with the contents of a host directory (like cp -r DIR/. IMAGE:/)')
    .option('--headroom <percent>', "with --from and --size auto (the default): free space to add, e.g. 10%", '10%')
    .addHelpText(
      'after',
      '\nExamples:\n  diskkit mkfs floppy.img --size 1.44M --label BOOT\n  diskkit mkfs disk.img --size 32G\n  diskkit mkfs small.img --size 64M --type fat32 --cluster-size 512\n  diskkit mkfs stick.img --from ./files --size auto --headroom 20%',
    )
    .action((image: string, flags: MkfsFlags, command: Command) => runAction(image, () => mkfs(image, flags, command)));
}

async function mkfs(image: string, flags: MkfsFlags, command: Command): Promise<number> {
  const options = globalOptions(command);
  // Validate everything before touching the file system.
  const auto = flags.from !== undefined && (flags.size === undefined || flags.size === 'auto');
  if (flags.size === 'auto' && flags.from === undefined) throw usageError('--size auto needs --from DIR');
  let size = auto || flags.size === undefined ? undefined : parseSize(flags.size, '--size');
  const headroom = parseHeadroom(flags.headroom ?? '10%');
  let tree: import('../engine/fat/tree-size.js').TreeSummary | undefined;
  if (flags.from !== undefined) {
    const { statSync } = await import('node:fs');
    let isDir = false;
    try {
      isDir = statSync(flags.from).isDirectory();
    } catch {
      isDir = false;
    }
    if (!isDir) throw usageError(`--from '${flags.from}' is not a directory`);
    const { summarizeHostTree } = await import('./host-tree.js');
    tree = summarizeHostTree(flags.from);
  }
  const fatType = flags.type === undefined ? undefined : parseFatType(flags.type);
  const bytesPerCluster = flags.clusterSize === undefined ? undefined : parseSize(flags.clusterSize, '--cluster-size');
  const bytesPerSector = parseChoice(flags.sectorSize ?? '512', [512, 1024, 2048, 4096], '--sector-size');
  const numberOfFats = parseChoice(flags.fats ?? '2', [1, 2], '--fats');
  const epoch = sourceDateEpoch();
  const reproducible = Boolean(flags.invariant) || epoch !== undefined;

  // Loaded together: start-up is most of what a mkfs costs.
  const [{ planFatLayout, formatBytes }, engine] = await Promise.all([import('../engine/fat/layout.js'), import('../engine/fat/mkfs.js')]);
  const label = engine.validateVolumeLabel(flags.label ?? '');
  const givenVolumeId = flags.volumeId === undefined ? undefined : engine.parseVolumeId(flags.volumeId);

  if (auto) {
    const { autoVolumeSize } = await import('../engine/fat/tree-size.js');
    try {
      size = autoVolumeSize(tree!, { bytesPerSector, fatType, bytesPerCluster, numberOfFats }, planFatLayout, headroom, (flags.label ?? '') !== '');
    } catch {
      throw usageError(`no ${fatType ?? 'FAT'} layout with these options holds '${flags.from}'`);
    }
  }
  if (size !== undefined) {
    // Check the layout before creating anything, so a refused layout leaves no file behind.
    planFatLayout({ volumeBytes: size, bytesPerSector, fatType, bytesPerCluster, numberOfFats });
  }

  const target: Target =
    options.partition === undefined
      ? { ...engine.openMkfsTarget(image, { size, force: Boolean(flags.force) }), start: 0 }
      : await openPartitionTarget(image, options.partition, size, Boolean(flags.force));
  // One journal covers the format and the --from fill: a failure or a crash leaves the image as it was (or no image).
  engine.holdTargetJournal(image, target.source);
  let result;
  try {
    const layout = planFatLayout({ volumeBytes: target.volumeBytes, bytesPerSector, fatType, bytesPerCluster, numberOfFats });
    const hiddenSectors = target.start / bytesPerSector;
    if (!Number.isInteger(hiddenSectors)) {
      throw usageError(`partition ${options.partition} starts at byte ${target.start}, not on a ${bytesPerSector}-byte sector boundary`);
    }
    const when = reproducible ? new Date((epoch ?? INVARIANT_EPOCH) * 1000) : new Date();
    const volumeId =
      givenVolumeId ??
      (reproducible
        ? engine.derivedVolumeId([epoch ?? INVARIANT_EPOCH, layout.fatType, layout.totalSectors, layout.bytesPerSector, layout.sectorsPerCluster, label.label ?? '', hiddenSectors].join('|'))
        : engine.randomVolumeId());
    result = engine.formatFat(target.source, { layout, label: label.label, volumeId, timestamp: when, utc: reproducible, hiddenSectors, fresh: target.fresh });
  } catch (error) {
    target.source.close();
    // A half-made new image is worse than none.
    engine.finishMkfs(image, false);
    throw error;
  }
  target.source.close();

  let filled: { files: number; directories: number; bytes: number } | null = null;
  try {
    if (flags.from !== undefined) {
      const { copyIntoNewImage } = await import('./cp-in.js');
      filled = await copyIntoNewImage(flags.from, image, { invariant: reproducible }, options);
    }
    engine.finishMkfs(image, true);
  } catch (error) {
    engine.finishMkfs(image, false);
    throw error;
  }

  const l = result.layout;
  const partition = options.partition ?? null;
  if (options.json) {
    printJson({
      image,
      partition,
      fatType: l.fatType,
      volumeBytes: l.totalSectors * l.bytesPerSector,
      bytesPerSector: l.bytesPerSector,
      sectorsPerCluster: l.sectorsPerCluster,
      bytesPerCluster: l.bytesPerCluster,
      reservedSectors: l.reservedSectors,
      numberOfFats: l.numberOfFats,
      sectorsPerFat: l.sectorsPerFat,
      rootEntryCount: l.rootEntryCount,
      totalSectors: l.totalSectors,
      hiddenSectors: result.hiddenSectors,
      media: l.media,
      sectorsPerTrack: l.sectorsPerTrack,
      numberOfHeads: l.numberOfHeads,
      driveNumber: l.driveNumber,
      clusterCount: l.clusterCount,
      firstDataSector: l.firstDataSector,
      dataOffset: l.firstDataSector * l.bytesPerSector,
      rootCluster: l.fatType === 'fat32' ? l.rootCluster : null,
      aligned: l.aligned,
      volumeId: engine.formatVolumeId(result.volumeId),
      label: result.label,
      labelUpperCased: label.upperCased,
      reproducible,
      formattedInPlace: !target.fresh,
      bytesWritten: result.bytesWritten,
      warnings: result.warnings,
      from: flags.from ?? null,
      filled,
    });
    return 0;
  }
  if (label.upperCased) warn(options, image, `label stored in upper case as '${label.label}' (FAT labels cannot hold lower case)`);
  for (const w of result.warnings) warn(options, image, w.message);
  if (!options.quiet) {
    const fats = `${l.numberOfFats} FAT${l.numberOfFats > 1 ? 's' : ''} of ${l.sectorsPerFat} sectors`;
    const root = l.fatType === 'fat32' ? 'root directory in cluster 2' : `${l.rootEntryCount} root entries`;
    process.stdout.write(
      `${image}${partition === null ? '' : ` partition ${partition}`}: ${l.fatType.toUpperCase()}, ${formatBytes(l.totalSectors * l.bytesPerSector)} (${l.totalSectors} sectors of ${l.bytesPerSector} bytes), ` +
        `${l.clusterCount} clusters of ${formatBytes(l.bytesPerCluster)}, ${fats}, ${root}, ` +
        `volume id ${engine.formatVolumeId(result.volumeId)}${result.label ? `, label ${result.label}` : ''}\n`,
    );
    if (filled) process.stdout.write(`${image}: copied ${filled.files} files and ${filled.directories} directories (${formatBytes(filled.bytes)}) from ${flags.from}\n`);
  }
  return 0;
}

interface Target {
  source: import('../io/block-source.js').BlockSource;
  fresh: boolean;
  created: boolean;
  volumeBytes: number;
  /** Byte offset of the volume in the image (the partition start). */
  start: number;
}

/**
 * Partition N of an existing disk image, to format in place. One that already holds
 * a file system, or anything but zeros in its first sector, needs --force.
 */
async function openPartitionTarget(image: string, partition: number, size: number | undefined, force: boolean): Promise<Target> {
  const { openImage } = await import('../engine/image.js');
  const { DiskkitError, ErrorCode } = await import('../engine/errors.js');
  const opened = openImage(image, { partition, writable: true });
  const { source } = opened;
  try {
    if (!force) {
      const first = new Uint8Array(Math.min(512, source.size));
      source.readAt(first, 0, first.length, 0);
      const what = opened.format !== 'unknown' ? `already holds a${opened.format === 'fat' ? ' FAT' : 'n NTFS'} file system` : first.some((b) => b !== 0) ? 'is not empty' : null;
      if (what) {
        throw new DiskkitError(ErrorCode.EXISTS, `partition ${partition} ${what}`, {
          context: { partition },
          hint: 'add --force to format it anyway (its contents are lost)',
        });
      }
    }
    if (size !== undefined && size > source.size) throw usageError(`--size ${size} is larger than partition ${partition} (${source.size} bytes)`);
  } catch (error) {
    source.close();
    throw error;
  }
  return { source, fresh: false, created: false, volumeBytes: size ?? source.size, start: opened.partition!.start };
}
