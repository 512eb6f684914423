/**
 * Copy into an image: host -> IMAGE:/DEST, and IMAGE:/A -> IMAGE:/B inside one image
 * or from another image of any format, with cp(1) semantics:
 * - a file goes to DEST, or into DEST when DEST is an existing directory;
 * - a directory (with -r) becomes DEST when DEST does not exist, else DEST/NAME;
 *   SRC/. copies the directory's contents into DEST;
 * - an existing file is replaced (-n/--no-clobber keeps it); a directory merges.
 * Host directories are listed in sorted order, so with --invariant or
 * SOURCE_DATE_EPOCH the same inputs give a byte-identical image. A source name FAT
 * cannot store (`notes.`, `a?b`) is stored as FAT can (`notes`, `a_b`) with a warning,
 * exit 0 (storable-names.ts); one with no storable form (`...`) is reported (E_BAD_NAME,
 * naming the path) and skipped; the copy goes on and the exit code is 1. A full volume stops the copy: what was written stays, the
 * failing file takes nothing, and the image is left consistent.
 */
import { lstatSync, readdirSync, statSync, type Dirent, type Stats } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { DiskkitError, ErrorCode, fromSystemError, type ErrorCodeValue } from '../engine/errors.js';
import type { EntryInfo, Volume } from '../engine/volume.js';
import { isWithin, joinPath, pathKey } from '../engine/volume-path.js';
import { escapeName, printJson, refuseReadOnlyImage, reportError, usageError, warn, type GlobalOptions, type ImageRef } from './context.js';
import { ExitCode } from './exit-codes.js';
import { timePolicy, type TimePolicy } from './write-times.js';
import { progressWanted, startProgress, type Progress } from './progress.js';
import { clashError, resolveClashes, type ClashPolicy } from './name-clash.js';
import { storablePlan } from './storable-names.js';
import { HostTreeReader } from '../io/host-tree-reader.js';
import { imageMayImportHostTree } from '../engine/host-import-target.js';
import { hostReaderFor, writeHostFile, writeImageFile, writeReadFile } from './cp-in-files.js';
import { ownDescriptor, spoolStream, type Spooled } from '../io/host-stream.js';

export interface CopyInOptions {
  recursive: boolean;
  noClobber: boolean;
  invariant: boolean;
  /** cp -v / -p (cp-report.ts). */
  verbose?: boolean;
  preserve?: boolean;
  /** Two sources with one FAT name (case only differs): see name-clash.ts. Default fail. */
  onClash?: ClashPolicy;
  /** -L: follow symbolic links met inside directories (else each is skipped with a warning: FAT and Cartridge images hold no links). */
  followLinks?: boolean;
  /** --force: write even to an image file without write permission. */
  force?: boolean;
  /** --compress: extent compression for the files written, on images whose format compresses (Cartridge). */
  compress?: string;
}

/** One thing to create: a directory, or a file from the host or from the image itself. */
type PlanItem =
  | { kind: 'dir'; dest: string; from: string; mtime: Date | null }
  /**
   * `stat`: the host file's stat from the plan walk, so a small file needs no fstat of its own.
   * `label`: what reports call the source when `from` is not its name (a stream's temporary file).
   */
  | { kind: 'host-file'; dest: string; from: string; stat?: Stats; label?: string }
  /** A file of an image: the destination image itself, or another one (any format), read through `volume`. */
  | { kind: 'image-file'; dest: string; from: EntryInfo; volume: Volume };

interface Outcome {
  written: { path: string; type: 'file' | 'dir'; size: number; from: string }[];
  skipped: { path: string; reason: string }[];
  /** Sources written under another name than planned (--on-clash rename). */
  renamed: { path: string; from: string; reason: string }[];
  files: number;
  directories: number;
  bytes: number;
  errors: { path: string; code: string; message: string }[];
}

const PROGRESS_MIN_BYTES = 16 * 1024 * 1024;

export async function copyIn(sources: string[], dest: ImageRef, options: CopyInOptions, g: GlobalOptions): Promise<number> {
  return copyInto(sources.map((s) => ({ host: s })), dest, options, g);
}

/**
 * `mkfs --from DIR`: fills a freshly made image with DIR's contents. Every problem is
 * collected (nothing printed): a new image that is not the tree is a failure, and the
 * caller reports them all and removes the image.
 */
export async function copyIntoNewImage(
  dir: string,
  image: string,
  options: { invariant: boolean; onClash?: ClashPolicy },
  g: GlobalOptions,
): Promise<{ files: number; directories: number; bytes: number; errors: Outcome['errors']; skipped: Outcome['skipped']; renamed: Outcome['renamed'] }> {
  const quiet: GlobalOptions = { ...g, json: true };
  const outcome = await copyInto([{ host: `${dir.replace(/\/+$/, '')}/.` }], { image, path: '/', explicitPath: true }, { recursive: true, noClobber: false, invariant: options.invariant, onClash: options.onClash }, quiet, true);
  return { files: outcome.files, directories: outcome.directories, bytes: outcome.bytes, errors: outcome.errors, skipped: outcome.skipped, renamed: outcome.renamed };
}

/**
 * `cp IMAGE:/A... IMAGE:/B`: within one image, or from other images into this one,
 * whatever their formats (each file read with openFile on its image, written with
 * writeFile on the destination).
 */
export async function copyWithin(sources: ImageRef[], dest: ImageRef, options: CopyInOptions, g: GlobalOptions): Promise<number> {
  return copyInto(sources, dest, options, g);
}

type Source = { host: string } | ImageRef;

async function copyInto(sources: Source[], dest: ImageRef, options: CopyInOptions, g: GlobalOptions): Promise<number>;
/** `collect`: return the outcome (errors included) instead of printing it and an exit code. */
async function copyInto(sources: Source[], dest: ImageRef, options: CopyInOptions, g: GlobalOptions, collect: true): Promise<Outcome>;
async function copyInto(sources: Source[], dest: ImageRef, options: CopyInOptions, g: GlobalOptions, collect = false): Promise<number | Outcome> {
  refuseReadOnlyImage(dest.image, Boolean(options.force));
  // A copy the volume may take in bulk: the host tree's reader starts now, on its own
  // thread, and reads while the engine loads and the image opens.
  const bulkSource = bulkCandidate(sources, dest, options, g);
  const reader = bulkSource === null ? null : HostTreeReader.start(bulkSource);
  let volume: Volume;
  let openVolume: typeof import('../engine/open-volume.js').openVolume;
  try {
    ({ openVolume } = await import('../engine/open-volume.js'));
    volume = await openVolume(dest.image, { partition: g.partition, writable: true });
  } catch (error) {
    reader?.close();
    throw namingImage(error, dest.image);
  }
  if (options.compress !== undefined && !volume.capabilities.compression) {
    reader?.close();
    volume.close();
    throw usageError(`--compress is for images that compress their files (Cartridge); ${dest.image} is ${volume.format.toUpperCase()}`);
  }
  // Other images copied from, opened read-only once each (the same image is the destination volume itself).
  const others = new Map<string, Volume>();
  const volumeFor = async (image: string): Promise<Volume> => {
    if (sameFile(image, dest.image)) return volume;
    let other = others.get(image);
    if (!other) {
      try {
        other = await openVolume(image, { partition: g.partition });
      } catch (error) {
        throw namingImage(error, image);
      }
      others.set(image, other);
    }
    return other;
  };
  /** False when the source cannot be read: planning it reports that. */
  const isFileSource = async (src: Source): Promise<boolean> => {
    try {
      if ('host' in src) return !statSync(src.host).isDirectory();
      return (await volumeFor(src.image)).stat(src.path).type !== 'dir';
    } catch {
      return false;
    }
  };
  const times = timePolicy(options.invariant);
  const outcome: Outcome = { written: [], skipped: [], renamed: [], files: 0, directories: 0, bytes: 0, errors: [] };
  // One line per failed file; each distinct hint once, at the end (a full root fails every later file alike).
  const hints = new Set<string>();
  const fail = (path: string, error: unknown): void => {
    const e = error instanceof DiskkitError ? error : fromSystemError(error, path, 'copy');
    outcome.errors.push({ path: (e.context.path as string | undefined) ?? path, code: e.code, message: e.message });
    if (e.hint) hints.add(e.hint);
    if (!g.json) reportError(dest.image, e, { hint: false });
  };
  const links: { path: string; reason: string }[] = [];
  const skipLink = (path: string, reason: string): void => {
    links.push({ path, reason });
    outcome.skipped.push({ path, reason });
  };
  // A bulk import that failed half-way leaves the image as it was: nothing of it is committed.
  let discard = false;
  try {
    const destInfo = statOrNull(volume, dest.path);
    const destIsDir = destInfo?.type === 'dir';
    if (sources.length > 1 && !destIsDir) throw usageError(`target '${dest.path}' is not a directory`);
    let bulk: boolean;
    try {
      bulk = reader !== null && bulkCopy(volume, reader, dest.path, destIsDir, destInfo, options, times, outcome, fail, skipLink, g, collect);
    } catch (error) {
      discard = true;
      throw error;
    } finally {
      reader?.close();
    }
    // The bulk import commits with everything else, in the finally below (once).
    if (bulk) for (const link of links) warn(g, dest.image, `${link.path}: ${link.reason}`);
    else await copyByPlan();
  } finally {
    // Files copied before an error are kept (runPlan commits on its normal path).
    try {
      if (!discard) volume.commit();
    } finally {
      volume.close();
      for (const other of others.values()) other.close();
    }
  }
  if (!g.json) for (const hint of hints) process.stderr.write(`diskkit: hint: ${hint}\n`);
  if (collect) return outcome;
  if (g.json) printJson(outcome);
  return outcome.errors.length > 0 ? ExitCode.ERROR : ExitCode.OK;

  async function copyByPlan(): Promise<void> {
    const destInfo = statOrNull(volume, dest.path);
    const destIsDir = destInfo?.type === 'dir';
    const plan: PlanItem[] = [];
    // Streams named as operands (/dev/stdin, a FIFO): read into temporary files first, planned as those, reported by their own names.
    const spooled = new Map<string, Spooled>();
    try {
      for (const src of sources) {
        try {
          // cp(1): a file copied to 'DEST/' needs DEST to be a directory; it is never created as a file named DEST.
          if (dest.mustBeDir && !destIsDir && (await isFileSource(src))) {
            throw new DiskkitError(ErrorCode.NOT_A_DIRECTORY, `cannot create regular file '${dest.path}/': not a directory`, { context: { path: dest.path } });
          }
          if ('host' in src && streamOperand(src.host, options.recursive)) {
            // Named after the operand, as cp(1) names it (the temporary file has no name).
            const stream = spoolFor(src.host);
            plan.push({ kind: 'host-file', dest: target(basename(src.host), false, false, dest.path, destIsDir, destInfo, src.host), from: stream.path, stat: statSync(stream.path), label: src.host });
          } else if ('host' in src) planHost(src.host, dest.path, destIsDir, destInfo, options, plan, fail, skipLink);
          else planImage(await volumeFor(src.image), volume, src.path, dest.path, destIsDir, destInfo, options.recursive, plan, fail);
        } catch (error) {
          fail('host' in src ? src.host : src.path, error);
        }
      }
      await copyPlanned(plan);
    } finally {
      for (const [operand, stream] of spooled) {
        stream.remove();
        for (const e of outcome.errors) if (e.path === stream.path) e.path = operand;
      }
    }

    function spoolFor(operand: string): Spooled {
      // What the image can take: FAT's free space; a format that compresses (or grows) is not bounded by it.
      const limit = volume.capabilities.compression ? Infinity : volume.info().freeBytes;
      const stream = spoolStream(operand, limit);
      spooled.set(operand, stream);
      return stream;
    }
  }

  async function copyPlanned(plan: PlanItem[]): Promise<void> {
    for (const link of links) warn(g, dest.image, `${link.path}: ${link.reason}`);
    // Source names the format cannot store are stored as it can, before clashes are settled (storable-names.ts).
    const storable = storablePlan(plan, dest.path, volume.storableName?.bind(volume), planSource);
    const takenInImage = (item: PlanItem): boolean => {
      if (!storable.renamed.has(planSource(item))) return false;
      const there = statOrNull(volume, item.dest);
      return there !== null && !(there.type === 'dir' && item.kind === 'dir');
    };
    const settled = resolveClashes(storable.plan, options.onClash ?? 'fail', planSource, (path) => statOrNull(volume, path) !== null, (name) => volume.nameKey(name), takenInImage);
    for (const clash of settled.clashes) {
      if (clash.inImage && clash.resolution !== 'fail') {
        const what = clash.resolution === 'skip' ? 'skipped' : clash.resolution === 'rename' ? `copied as '${clash.renamedTo}'` : 'copied over it';
        if (clash.resolution === 'skip') outcome.skipped.push({ path: clash.dest, reason: `stored as '${clash.dest}', which the image already holds (--on-clash skip): '${clash.source}' not copied` });
        if (clash.resolution === 'rename') outcome.renamed.push({ path: clash.renamedTo!, from: clash.source, reason: `'${clash.dest}' is in the image already` });
        warn(g, dest.image, `${escapeName(`'${clash.source}' would be stored as '${clash.dest}', which the image already holds`)}: ${escapeName(what)}`);
        continue;
      }
      if (clash.resolution === 'fail') fail(clash.source, clashError(clash));
      else if (clash.resolution === 'skip') outcome.skipped.push({ path: clash.dest, reason: `name clash with '${clash.other}' (--on-clash skip): '${clash.source}' not copied` });
      else if (clash.resolution === 'rename') outcome.renamed.push({ path: clash.renamedTo!, from: clash.source, reason: `name clash with '${clash.other}'` });
      if (clash.resolution !== 'fail') {
        const what = clash.resolution === 'skip' ? 'skipped' : clash.resolution === 'rename' ? `copied as '${clash.renamedTo}'` : 'copied over it';
        warn(g, dest.image, `'${clash.source}' and '${clash.other}' have the same name in the image ('${clash.dest}'): ${what}`);
      }
    }
    const renamedFrom = new Map(outcome.renamed.map((r) => [r.from, r]));
    for (const item of settled.plan) {
      const reason = storable.renamed.get(planSource(item));
      if (reason === undefined) continue;
      const name = item.dest.slice(item.dest.lastIndexOf('/') + 1);
      const clashRenamed = renamedFrom.get(planSource(item));
      if (clashRenamed) clashRenamed.reason = `${reason}; ${clashRenamed.reason}`;
      else outcome.renamed.push({ path: item.dest, from: planSource(item), reason });
      warn(g, dest.image, escapeName(`${planSource(item)}: stored as ${JSON.stringify(name)} (${reason})`));
    }
    // The list of what was written is for --json, -v and -p (not mkfs --from, which is quiet through json): kept for 10,000 files, it was garbage the collector copied around.
    const listWritten = (g.json && !collect) || Boolean(options.verbose || options.preserve);
    await runPlan(volume, settled.plan, times, options, outcome, fail, g, listWritten);
    if (options.verbose || options.preserve) (await import('./cp-report.js')).afterCopyIn(volume, dest.image, outcome.written, sources.some((s) => 'image' in s), options, g);
  }
}

/**
 * A host operand that is a stream (a FIFO, character device or socket, or this process's
 * own descriptor named as `/dev/stdin`, `/dev/fd/N`): its contents are copied, as cp(1)
 * copies them. With -r only a descriptor of this process is (cp -r would make a special
 * file, which no image format here holds: other special files stay skipped).
 */
function streamOperand(host: string, recursive: boolean | undefined): boolean {
  if (ownDescriptor(host) !== null) return true;
  if (recursive) return false;
  try {
    const st = statSync(host);
    return st.isFIFO() || st.isCharacterDevice() || st.isSocket();
  } catch {
    return false; // planHost reports it
  }
}

/**
 * The host directory of a copy the bulk path could take: one host directory with -r, and
 * none of the options it does not implement (-L, -v, -p, a progress bar); else null.
 */
function bulkCandidate(sources: Source[], dest: ImageRef, options: CopyInOptions, g: GlobalOptions): string | null {
  const source = sources[0];
  if (sources.length !== 1 || !source || !('host' in source) || !options.recursive) return null;
  if (options.followLinks || options.verbose || options.preserve || progressWanted(g)) return null;
  // (A partition's format is not at the image's start: then the volume alone decides.)
  if (g.partition === undefined && !imageMayImportHostTree(dest.image)) return null;
  try {
    return statSync(source.host).isDirectory() ? source.host : null;
  } catch {
    return null; // the entry-by-entry copy reports it
  }
}

/**
 * `cp -r HOST_DIR IMAGE:/DEST` through the volume's bulk import when it has one and can
 * take this copy (Cartridge: an empty image): true when it did.
 */
function bulkCopy(
  volume: Volume,
  reader: HostTreeReader,
  dest: string,
  destIsDir: boolean,
  destInfo: EntryInfo | null,
  options: CopyInOptions,
  times: TimePolicy,
  outcome: Outcome,
  fail: (p: string, e: unknown) => void,
  skipLink: (path: string, reason: string) => void,
  g: GlobalOptions,
  collect: boolean,
): boolean {
  if (!volume.importHostTree) return false;
  const src = reader.root;
  let root: string;
  try {
    root = target(basename(src.replace(/\/+\.?\/?$/, '')) || basename(src), true, /(^|\/)\.\/?$/.test(src), dest, destIsDir, destInfo, src);
  } catch {
    return false; // the entry-by-entry copy reports it
  }
  const result = volume.importHostTree(src, root, {
    // As every other copy in takes a host file's time (fromHostMs: rounded to the millisecond, then clamped); new Date() would truncate.
    mtimeOf: (mtimeMs) => times.fromHostMs(mtimeMs, mtimeMs, 0).mtime.getTime(),
    compression: options.compress,
    onEntry: g.json && !collect ? (path, type, size, from) => outcome.written.push({ path, type, size, from }) : undefined,
    reader,
  });
  if (!result) return false;
  outcome.files += result.files;
  outcome.directories += result.directories;
  outcome.bytes += result.bytes;
  for (const s of result.skipped) {
    if (s.kind === 'link') skipLink(s.path, 'symbolic link not copied (-L copies what it points to)');
    else fail(s.path, new DiskkitError(ErrorCode.UNSUPPORTED, 'not a regular file or directory; skipped', { context: { path: s.path } }));
  }
  for (const e of result.errors) fail(e.path, new DiskkitError(e.code as ErrorCodeValue, e.message, { context: { path: e.path } }));
  return true;
}

const byName = (a: Dirent, b: Dirent): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function planSource(item: PlanItem): string {
  return item.kind === 'image-file' ? item.from.path : item.kind === 'host-file' ? (item.label ?? item.from) : item.from;
}

function statOrNull(volume: Volume, path: string): EntryInfo | null {
  try {
    return volume.stat(path);
  } catch (error) {
    if (error instanceof DiskkitError && error.code === ErrorCode.NOT_FOUND) return null;
    throw error;
  }
}

/**
 * An image that failed to open is named in its error: with two images in one copy, the
 * command's own image (the first argument's) may be the other one (a wrong passphrase for
 * the destination was reported against the source).
 */
function namingImage(error: unknown, image: string): unknown {
  if (error instanceof DiskkitError && error.context.image === undefined) error.context.image = image;
  return error;
}

/** Whether two image arguments name the same file (then one volume serves both sides). */
function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  try {
    const [sa, sb] = [statSync(a), statSync(b)];
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/** Where SRC lands: DEST itself, DEST/NAME, or (for SRC/.) DEST as the receiver of its contents. */
function target(srcName: string, isDir: boolean, contentsOf: boolean, dest: string, destIsDir: boolean, destInfo: EntryInfo | null, what: string): string {
  if (isDir && contentsOf) {
    if (destInfo && !destIsDir) throw new DiskkitError(ErrorCode.NOT_A_DIRECTORY, 'not a directory', { context: { path: dest } });
    return dest;
  }
  if (destIsDir) return joinPath(dest, srcName);
  if (isDir && destInfo) throw new DiskkitError(ErrorCode.EXISTS, `cannot overwrite non-directory '${dest}' with directory '${what}'`, { context: { path: dest } });
  return dest;
}

/**
 * Operands are followed when they are symbolic links (the user named them, as cp -H);
 * links met inside a directory are followed only with -L, else skipped with a warning.
 * A link that leads nowhere is a warning too, never a failure of the whole copy.
 */
function planHost(
  src: string,
  dest: string,
  destIsDir: boolean,
  destInfo: EntryInfo | null,
  options: CopyInOptions,
  plan: PlanItem[],
  fail: (p: string, e: unknown) => void,
  skipLink: (path: string, reason: string) => void,
): void {
  const recursive = options.recursive;
  let st: Stats;
  try {
    st = statSync(src);
  } catch (error) {
    throw fromSystemError(error, src, 'read');
  }
  const contentsOf = /(^|\/)\.\/?$/.test(src);
  if (!st.isDirectory()) {
    if (!st.isFile()) throw new DiskkitError(ErrorCode.UNSUPPORTED, 'not a regular file or directory; skipped', { context: { path: src } });
    plan.push({ kind: 'host-file', dest: target(basename(src), false, false, dest, destIsDir, destInfo, src), from: src, stat: st });
    return;
  }
  if (!recursive) throw new DiskkitError(ErrorCode.IS_A_DIRECTORY, 'is a directory (use cp -r)', { context: { path: src } });
  const root = target(basename(src.replace(/\/+\.?\/?$/, '')) || basename(src), true, contentsOf, dest, destIsDir, destInfo, src);
  plan.push({ kind: 'dir', dest: root, from: src, mtime: st.mtime });
  // Directories already entered (device:inode), so a symlink loop cannot recurse forever.
  const seen = new Set<string>([`${st.dev}:${st.ino}`]);
  const walk = (hostDir: string, imageDir: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(hostDir, { withFileTypes: true });
    } catch (error) {
      fail(hostDir, fromSystemError(error, hostDir, 'list directory'));
      return;
    }
    // The order of names' UTF-16 code units (as Array.prototype.sort sorts strings): the order images were always written in.
    entries.sort(byName);
    // join(hostDir, name) without normalizing each time: a listed name has no '/' and is never '.' or '..'.
    const base = join(hostDir, '.');
    const prefix = base === '/' ? '/' : base === '.' ? '' : `${base}/`;
    for (const entry of entries) {
      const name = entry.name;
      const host = prefix + name;
      const inside = joinPath(imageDir, name);
      // A regular file needs no stat here: writeHostFile opens it without following a
      // link and takes its size and times from fstat (one syscall per file, not two).
      if (entry.isFile()) {
        plan.push({ kind: 'host-file', dest: inside, from: host });
        continue;
      }
      let child: Stats;
      try {
        child = lstatSync(host);
        if (child.isSymbolicLink()) {
          if (!options.followLinks) {
            skipLink(host, 'symbolic link not copied (FAT and Cartridge images hold no links; -L copies what it points to)');
            continue;
          }
          try {
            child = statSync(host);
          } catch {
            skipLink(host, 'symbolic link to nothing: not copied');
            continue;
          }
        }
      } catch (error) {
        fail(host, fromSystemError(error, host, 'read'));
        continue;
      }
      if (child.isDirectory()) {
        const key = `${child.dev}:${child.ino}`;
        if (seen.has(key)) {
          fail(host, new DiskkitError(ErrorCode.CHAIN_LOOP, 'directory loop (a symlink back to an ancestor); skipped', { context: { path: host } }));
          continue;
        }
        seen.add(key);
        plan.push({ kind: 'dir', dest: inside, from: host, mtime: child.mtime });
        walk(host, inside);
        seen.delete(key);
      } else if (child.isFile()) plan.push({ kind: 'host-file', dest: inside, from: host, stat: child });
      else fail(host, new DiskkitError(ErrorCode.UNSUPPORTED, 'not a regular file or directory; skipped', { context: { path: host } }));
    }
  };
  walk(src, root);
}

/** Plans copying `src` of `volume` (the destination volume itself, or another image's) to `dest` of `into`. */
function planImage(volume: Volume, into: Volume, src: string, dest: string, destIsDir: boolean, destInfo: EntryInfo | null, recursive: boolean, plan: PlanItem[], fail: (p: string, e: unknown) => void): void {
  const entry = volume.stat(src);
  const contentsOf = entry.path === '/' || src.endsWith('/.');
  if (entry.type === 'file') {
    const to = target(entry.name, false, false, dest, destIsDir, destInfo, src);
    // cp(1): a file copied onto itself (the same name, or one the format takes for it) is an error, not a quiet success.
    if (volume === into && pathKey(volume, to) === pathKey(volume, entry.path)) {
      throw new DiskkitError(ErrorCode.INVALID_MOVE, `'${entry.path}' and '${to}' are the same file`, { context: { path: entry.path } });
    }
    plan.push({ kind: 'image-file', dest: to, from: entry, volume });
    return;
  }
  if (!recursive) throw new DiskkitError(ErrorCode.IS_A_DIRECTORY, 'is a directory (use cp -r)', { context: { path: entry.path } });
  const root = target(entry.name, true, contentsOf, dest, destIsDir, destInfo, src);
  if (volume === into) {
    if (entry.path !== '/' && isWithin(volume, root, entry.path)) {
      throw new DiskkitError(ErrorCode.INVALID_MOVE, `cannot copy a directory into itself ('${root}')`, { context: { path: entry.path } });
    }
    if (entry.path === '/' && root !== '/') throw new DiskkitError(ErrorCode.INVALID_MOVE, 'cannot copy the root directory into itself', { context: { path: root } });
  }
  plan.push({ kind: 'dir', dest: root, from: entry.path, mtime: entry.mtime });
  // The whole source tree is listed before anything is written, so the copy cannot see itself.
  const walk = (dir: EntryInfo, imageDir: string): void => {
    let children: EntryInfo[];
    try {
      children = volume.list(dir);
    } catch (error) {
      fail(dir.path, error);
      return;
    }
    for (const child of children) {
      // The format's bookkeeping (NTFS $MFT, $LogFile, ...) is left out of a tree copy, as a copy out leaves it out.
      if (child.metadata) continue;
      const inside = joinPath(imageDir, child.name);
      if (child.type === 'dir') {
        plan.push({ kind: 'dir', dest: inside, from: child.path, mtime: child.mtime });
        walk(child, inside);
      } else plan.push({ kind: 'image-file', dest: inside, from: child, volume });
    }
  };
  walk(entry, root);
}

async function runPlan(volume: Volume, plan: PlanItem[], times: TimePolicy, options: CopyInOptions, outcome: Outcome, fail: (p: string, e: unknown) => void, g: GlobalOptions, listWritten: boolean): Promise<void> {
  const bar = await progressBar(plan, g);
  let doneBefore = 0;
  const badDirs: string[] = [];
  let lastTurn = performance.now();
  const walked: string[] = [];
  for (const item of plan) if (item.kind === 'host-file' && item.stat === undefined) walked.push(item.from);
  const reader = hostReaderFor(walked);
  try {
    for (let at = 0; at < plan.length; at++) {
      const item = plan[at]!;
      // Give the event loop a turn now and then, so Ctrl-C is handled mid-copy (the journal rolls the image back).
      if (performance.now() - lastTurn > 50) {
        await new Promise((resolve) => setImmediate(resolve));
        lastTurn = performance.now();
      }
      // The reader thread's next record is this file's (taken even when the file is then skipped, to stay in step).
      const read = reader !== null && item.kind === 'host-file' && item.stat === undefined && reader.next();
      if (badDirs.length > 0 && badDirs.some((d) => item.dest.startsWith(d + '/'))) continue;
      try {
        if (item.kind === 'dir') {
          const existing = statOrNull(volume, item.dest);
          if (existing && existing.type !== 'dir') throw new DiskkitError(ErrorCode.EXISTS, 'exists and is not a directory', { context: { path: item.dest } });
          if (!existing) {
            const info = volume.mkdir(item.dest, { mtime: times.clamp(item.mtime) });
            outcome.directories++;
            if (listWritten) outcome.written.push({ path: info.path, type: 'dir', size: 0, from: item.from });
          }
          continue;
        }
        if (options.noClobber && statOrNull(volume, item.dest)?.type === 'file') {
          outcome.skipped.push({ path: item.dest, reason: 'exists (--no-clobber)' });
          continue;
        }
        const info = item.kind === 'host-file'
          ? read ? writeReadFile(volume, reader!, item.from, item.dest, times, bar, doneBefore, options.compress) : writeHostFile(volume, item.from, item.dest, times, bar, doneBefore, item.stat, options.compress)
          : writeImageFile(item.volume, volume, item.from, item.dest, times, options.compress);
        outcome.files++;
        outcome.bytes += info.size;
        if (listWritten) outcome.written.push({ path: info.path, type: 'file', size: info.size, from: planSource(item) });
        doneBefore += info.size;
        bar?.update(doneBefore);
      } catch (caught) {
        if (item.kind === 'dir') badDirs.push(item.dest);
        // The engine names the full directory; the user needs the file that did not fit.
        const error = caught instanceof DiskkitError && caught.code === ErrorCode.ROOT_FULL
          ? new DiskkitError(caught.code, `not copied: ${caught.message}`, { context: { ...caught.context, path: item.dest }, hint: caught.hint })
          : caught;
        fail(planSource(item), error);
        // A full volume or a broken image will fail every later item too: stop here, cleanly,
        // and say how many were not tried (cp(1) names each; one line for them all here).
        if (error instanceof DiskkitError && (error.code === ErrorCode.NO_SPACE || error.code === ErrorCode.IO)) {
          const left = plan.length - at - 1;
          if (left > 0) fail(planSource(plan[at + 1]!), new DiskkitError(error.code, `not copied${left === 1 ? '' : `, nor the ${left - 1} ${left === 2 ? 'entry' : 'entries'} after it`}: the copy stopped at the error above`, { context: { path: planSource(plan[at + 1]!), notCopied: left } }));
          break;
        }
      }
    }
    volume.commit();
  } finally {
    reader?.close();
    bar?.stop();
  }
}

async function progressBar(plan: PlanItem[], g: GlobalOptions): Promise<Progress | null> {
  if (!process.stderr.isTTY || g.quiet || g.json) return null;
  let total = 0;
  for (const item of plan) {
    if (item.kind === 'image-file') total += item.from.size;
    else if (item.kind === 'host-file') {
      try {
        total += (item.stat ?? statSync(item.from)).size;
      } catch {
        // reported when the file is copied
      }
    }
  }
  if (total < PROGRESS_MIN_BYTES) return null;
  return startProgress(g, 'copying', total);
}
