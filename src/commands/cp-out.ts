/**
 * Copy out of an image onto the host, with cp(1) semantics:
 * - a file goes to DEST, or into DEST when DEST is an existing directory;
 * - a directory (with -r) becomes DEST when DEST does not exist, else DEST/NAME;
 * - IMAGE:/DIR/. and IMAGE:/ copy the directory's contents into DEST (created if missing).
 * Modification and access times are kept.
 *
 * Hostile names never escape DEST: a name from the image is renamed (with a warning)
 * when it holds '/', '\', NUL or control characters (each becomes '_'), is '.', '..'
 * or empty (prefixed with '_'), is longer than the host's 255-byte limit (shortened),
 * or collides with a name already written in the same directory: case-insensitively
 * where the destination's file system compares names so (host-name-case.ts), else
 * exactly ('~N' is added before the extension). Files are opened with O_NOFOLLOW and an
 * existing symlink where a directory should be is refused. A file that cannot be
 * read (bad chain, loop, size beyond its chain) is reported, the copy goes on, and
 * the exit code is 1.
 *
 * A tree copy leaves out what the format marks as its own bookkeeping (EntryInfo.metadata:
 * NTFS's $MFT, $LogFile, ... in the root), as tsk_recover does; naming one copies it.
 */
import { lstatSync, realpathSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { EntryInfo, Volume } from '../engine/volume.js';
import { DiskkitError, ErrorCode, fromSystemError } from '../engine/errors.js';
import { walkLimitExceeded } from '../engine/limits.js';
import { statIncludingDeleted } from '../engine/deleted-path.js';
import { escapeName, printJson, reportError, slashedFileError, usageError, warn, type GlobalOptions, type ImageRef } from './context.js';
import { ExitCode } from './exit-codes.js';
import type { ScanOptions } from '../io/scan.js';
import { withInterrupt } from './io-options.js';
import { progressWanted } from './progress.js';
import { HostWriteQueue } from '../io/host-write-queue.js';
import { hostFoldsCase } from '../io/host-name-case.js';
import { type PlanIo, type PlanItem, type QueuedFile, runPlan, smallFileLimit } from './cp-out-run.js';

interface Outcome {
  files: number;
  directories: number;
  bytes: number;
  errors: { path: string; code: string; message: string }[];
  renamed: { path: string; host: string; reason: string }[];
}

const HOST_NAME_MAX = 255;
/** What a host name cannot hold: '/', '\\', NUL and the other control characters. */
const UNSAFE_CHARACTER = /[\u0000-\u001f\u007f/\\]/;
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f/\\]/g;

export async function copyOut(
  refs: ImageRef[],
  dest: string,
  options: { recursive: boolean; read: ScanOptions; stats: boolean; verbose?: boolean; preserve?: boolean; deleted?: boolean },
  g: GlobalOptions,
): Promise<number> {
  const { openVolume } = await import('../engine/open-volume.js');
  const destStat = statOrNull(dest);
  const destIsDir = destStat?.isDirectory() ?? false;
  if (refs.length > 1 && !destIsDir) throw usageError(`target '${dest}' is not a directory`);
  const outcome: Outcome = { files: 0, directories: 0, bytes: 0, errors: [], renamed: [] };
  const volumes = new Map<string, Volume>();
  // Plan position of each error: the worker reports a failed write after later reads
  // failed, and --json lists errors in plan order whatever thread met them.
  const errorAt: number[] = [];
  const fail = (image: string, path: string, error: unknown, at = -1): void => {
    const e = error instanceof DiskkitError ? error : fromSystemError(error, path, 'copy');
    outcome.errors.push({ path: (e.context.path as string | undefined) ?? path, code: e.code, message: e.message });
    errorAt.push(at);
    if (!g.json) reportError(image, e);
  };
  const queue = new HostWriteQueue<QueuedFile>({
    written(count, bytes) {
      outcome.files += count;
      outcome.bytes += bytes;
    },
    failed: (file, error) => file.fail(file.path, error, file.at),
  });
  const startWorker = smallFileLimit(options) >= 0 ? () => queue.startWorker() : () => {};

  try {
    for (const ref of refs) {
      let volume = volumes.get(ref.image);
      if (!volume) {
        volume = await openVolume(ref.image, { partition: g.partition });
        volumes.set(ref.image, volume);
      }
      let plan: Iterable<PlanItem>;
      try {
        plan = planCopy(volume, ref, dest, destIsDir, options.recursive, outcome, (p, e) => fail(ref.image, p, e), g, startWorker, options.deleted === true);
      } catch (error) {
        fail(ref.image, ref.path, error);
        continue;
      }
      // Listed while copied, one directory at a time: a plan of every entry built first stayed
      // alive for the whole copy, and moving it through the young generation was most of the
      // listing's time. Only a progress bar (its total) and -v/-p (their report) need it whole.
      const report = Boolean(options.verbose || options.preserve);
      if (report || progressWanted(g)) plan = [...plan];
      const io: PlanIo = { read: options.read, stats: options.stats };
      const v = volume;
      const failedBefore = outcome.errors.length;
      await withInterrupt((signal) => runPlan(v, plan, { ...io, signal }, queue, outcome, (p, e, at) => fail(ref.image, p, e, at), g));
      sortByPlanOrder(outcome.errors, errorAt, failedBefore);
      if (report) {
        const failed = new Set(outcome.errors.slice(failedBefore).map((e) => e.path));
        (await import('./cp-report.js')).afterCopyOut(ref.image, (plan as PlanItem[]).filter((item) => !failed.has(item.entry.path)), options, g);
      }
    }
  } finally {
    queue.close();
    for (const v of volumes.values()) v.close();
  }
  if (g.json) printJson(outcome);
  return outcome.errors.length > 0 ? ExitCode.ERROR : ExitCode.OK;
}

/** Sorts `errors[from..]` by their plan position `at` (stable: one item's errors keep their order). */
function sortByPlanOrder<E>(errors: E[], at: number[], from: number): void {
  const order = errors.slice(from).map((error, i) => ({ error, at: at[from + i]!, i }));
  order.sort((a, b) => a.at - b.at || a.i - b.i);
  order.forEach(({ error, at: position }, i) => {
    errors[from + i] = error;
    at[from + i] = position;
  });
}

function statOrNull(path: string) {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/**
 * A file copied to the DEST the user typed. A symbolic link there is written through, as
 * cp(1) and mcopy write through it: to the file it points to (whose real path is then
 * opened with O_NOFOLLOW like any other), or, for a device, FIFO or socket
 * (`/dev/stdout`), through the link itself. A dangling link is refused, as cp(1) refuses
 * it, rather than creating a file wherever it points.
 */
function destinationOperand(dest: string, entry: EntryInfo): PlanItem {
  let link = false;
  try {
    link = lstatSync(dest).isSymbolicLink();
  } catch {
    // nothing there yet: created
  }
  if (!link) return { kind: 'file', entry, host: dest };
  const target = statOrNull(dest);
  if (target === null) throw new DiskkitError(ErrorCode.EXISTS, `not writing through dangling symbolic link '${dest}'`, { context: { path: entry.path, host: dest } });
  if (target.isFile()) return { kind: 'file', entry, host: realpathSync(dest) };
  return { kind: 'file', entry, host: dest, follow: true };
}

/**
 * What `ref` copies, in order (a directory before its contents), as host paths. The
 * source itself is looked at now (its errors are thrown); a directory's contents are
 * listed as the caller reaches them.
 */
function planCopy(
  volume: Volume,
  ref: ImageRef,
  dest: string,
  destIsDir: boolean,
  recursive: boolean,
  outcome: Outcome,
  fail: (path: string, error: unknown) => void,
  g: GlobalOptions,
  bigCopy: () => void,
  deleted: boolean,
): Iterable<PlanItem> {
  const entry = deleted ? statIncludingDeleted(volume, ref.path) : volume.stat(ref.path);
  const slashed = slashedFileError(ref, entry);
  if (slashed) throw slashed;
  const contentsOf = entry.path === '/' || ref.path.endsWith('/.');
  if (entry.type === 'file') {
    if (destIsDir) return [{ kind: 'file', entry, host: join(dest, safeHostName(entry.name, new Map(), entry.path, outcome, ref.image, g)) }];
    return [destinationOperand(dest, entry)];
  }
  if (!recursive) throw new DiskkitError(ErrorCode.IS_A_DIRECTORY, 'is a directory (use cp -r)', { context: { path: entry.path } });
  let root: string;
  if (contentsOf) root = dest;
  else if (destIsDir) root = join(dest, safeHostName(entry.name, new Map(), entry.path, outcome, ref.image, g));
  else {
    const st = statOrNull(dest);
    if (st && !st.isDirectory()) throw new DiskkitError(ErrorCode.EXISTS, `cannot overwrite non-directory '${dest}' with a directory`, { context: { path: entry.path } });
    root = dest;
  }
  return walkTree(volume, ref.image, entry, root, outcome, fail, g, bigCopy, deleted);
}

/** One directory being walked: its children, the next one to hand out, and how their host paths are made. */
interface WalkFrame {
  children: EntryInfo[];
  next: number;
  /** Names written so far in the directory, keyed as the host compares them (hostKey), with the last ~N given. */
  used: Map<string, number>;
  dirInside: boolean;
  prefix: string;
  /** Levels below the directory the copy started from. */
  depth: number;
}

/** The directory `entry` (host path `root`) and everything under it, depth first, each directory listed when reached. */
function* walkTree(
  volume: Volume,
  image: string,
  entry: EntryInfo,
  root: string,
  outcome: Outcome,
  fail: (path: string, error: unknown) => void,
  g: GlobalOptions,
  bigCopy: () => void,
  deleted: boolean,
): Generator<PlanItem> {
  yield { kind: 'dir', entry, host: root };
  const rootResolved = resolve(root);
  // Asked once per tree, where it is written: how names collide there.
  const foldCase = hostFoldsCase(root);
  const stack: WalkFrame[] = [];
  const enter = (dirEntry: EntryInfo, hostDir: string, depth: number): void => {
    let children: EntryInfo[];
    try {
      children = deleted ? volume.list(dirEntry, { deleted: true }) : volume.list(dirEntry);
    } catch (error) {
      // A deleted directory's contents are often gone (FAT freed its chain): said, not counted as a failure.
      if (dirEntry.deleted) warn(g, image, escapeName(`${dirEntry.path}: deleted directory's contents not recoverable (${error instanceof Error ? error.message : String(error)})`));
      else fail(dirEntry.path, error);
      return;
    }
    // Resolved once per directory, not per child (path.resolve per file showed in cp -r profiles).
    const dirResolved = resolve(hostDir);
    const dirInside = dirResolved === rootResolved || (dirResolved + sep).startsWith(rootResolved + sep);
    // join(hostDir, name) for a plain component is this prefix + name (join's normalizing per file showed too).
    stack.push({ children, next: 0, used: new Map(), dirInside, prefix: join(hostDir, 'x').slice(0, -1), depth });
  };
  enter(entry, root, 0);
  let count = 1;
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next >= frame.children.length) {
      stack.pop();
      continue;
    }
    const child = frame.children[frame.next++]!;
    // The format's bookkeeping (NTFS $MFT, $LogFile, ...) is not copied by a tree copy (tsk_recover leaves it out too).
    if (child.metadata) continue;
    const name = safeHostName(child.name, frame.used, child.path, outcome, image, g, foldCase);
    const host = frame.prefix + name;
    // Defence in depth: whatever the name handling above, never leave the destination
    // (one component under a directory inside it stays inside unless it is '', '.', '..' or holds a separator).
    if (!frame.dirInside || name === '' || name === '.' || name === '..' || name.includes(sep) || name.includes('/')) {
      fail(child.path, new DiskkitError(ErrorCode.BAD_NAME, 'name would leave the destination; skipped', { context: { path: child.path } }));
      continue;
    }
    // Big enough for a worker: started now, its start-up overlaps the rest of the copy.
    if (++count === WORKER_MIN_ENTRIES) bigCopy();
    if (child.type === 'dir') {
      yield { kind: 'dir', entry: child, host };
      // The limits every walk keeps (limits.ts; as ls -R, the directory past them is made, not listed).
      const tooDeep = walkLimitExceeded(child.path, frame.depth + 1);
      if (tooDeep) fail(child.path, new DiskkitError(ErrorCode.LIMIT, tooDeep, { context: { path: child.path } }));
      // A deleted directory is entered too, as ls -R --deleted enters it (NTFS lists its deleted children).
      else enter(child, host, frame.depth + 1);
    } else yield { kind: 'file', entry: child, host };
  }
}

/** A host-safe, unique name for `name` in one destination directory (see the module comment). */
export function safeHostName(name: string, used: Map<string, number>, path: string, outcome: Outcome, image: string, g: GlobalOptions, foldCase = true): string {
  // Called once per entry of a cp -r: the common name needs no replace, and a name of at
  // most 85 UTF-16 units cannot reach 255 bytes of UTF-8 (3 bytes a unit at most).
  let safe = UNSAFE_CHARACTER.test(name) ? name.replace(UNSAFE_CHARACTERS, '_') : name;
  const reasons: string[] = [];
  if (safe !== name) reasons.push('contains /, \\, NUL or control characters');
  if (safe === '' || safe === '.' || safe === '..') {
    safe = '_' + safe;
    reasons.push('is empty, . or ..');
  }
  if (safe.length * 3 > HOST_NAME_MAX && Buffer.byteLength(safe) > HOST_NAME_MAX) {
    const chars = [...safe];
    while (Buffer.byteLength(chars.join('')) > HOST_NAME_MAX - 8) chars.pop();
    safe = chars.join('');
    reasons.push('is longer than 255 bytes');
  }
  const hostKey = foldCase ? (n: string) => n.toLowerCase() : (n: string) => n;
  let folded = hostKey(safe);
  if (used.has(folded)) {
    const dot = safe.lastIndexOf('.');
    const [stem, ext] = dot > 0 ? [safe.slice(0, dot), safe.slice(dot)] : [safe, ''];
    let n = used.get(folded)!;
    let candidate: string;
    do {
      n++;
      candidate = `${stem}~${n}${ext}`;
    } while (used.has(hostKey(candidate)));
    used.set(folded, n);
    safe = candidate;
    folded = hostKey(candidate);
    reasons.push(foldCase ? 'collides with another name (case-insensitively, as the destination compares names)' : 'collides with another name');
  }
  if (!used.has(folded)) used.set(folded, 0);
  if (reasons.length > 0) {
    outcome.renamed.push({ path, host: safe, reason: reasons.join('; ') });
    warn(g, image, `${escapeName(path)}: name ${reasons.join('; ')}; written as '${escapeName(safe)}'`);
  }
  return safe;
}

/** A copy of this many plan entries starts the host-write worker (a thread costs tens of milliseconds to start). */
const WORKER_MIN_ENTRIES = 200;
