/**
 * What every command shares: the global options, the image-argument syntax
 * (`IMAGE:/PATH`), JSON output, and the one place errors become exit codes.
 * Kept light: command modules import it at start-up.
 */
import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { DiskkitError, ErrorCode, isDiskkitError, toDiskkitError } from '../engine/errors.js';
import { EXIT_CODE_BY_ERROR, ExitCode } from './exit-codes.js';
import { writeAllSync } from '../io/write-all.js';

export interface GlobalOptions {
  json: boolean;
  quiet: boolean;
  color: boolean;
  partition: number | undefined;
  verbose: boolean;
}

/** The global options as seen from a subcommand's action. */
export function globalOptions(command: Command): GlobalOptions {
  const o = command.optsWithGlobals() as Record<string, unknown>;
  return {
    json: Boolean(o.json),
    quiet: Boolean(o.quiet),
    color: o.color !== false && !process.env.NO_COLOR,
    partition: o.partition === undefined ? undefined : Number(o.partition),
    verbose: Boolean(o.verbose),
  };
}

export interface ImageRef {
  image: string;
  /** Absolute path inside the image ('/' when none was given). */
  path: string;
  /** True when the argument spelled a path (IMAGE:/...), false for a bare IMAGE. */
  explicitPath: boolean;
  /** The path was written with a trailing '/' (`IMAGE:/dir/`): it must name a directory, as for cp(1) and mv(1). */
  mustBeDir?: boolean;
}

/** A file named as `IMAGE:/PATH/`: E_NOT_DIR, as ls(1), cat(1) and cp(1) refuse `file/`. */
export function slashedFileError(ref: ImageRef, entry: { type: string; path: string }): DiskkitError | null {
  if (!ref.mustBeDir || entry.type === 'dir') return null;
  return new DiskkitError(ErrorCode.NOT_A_DIRECTORY, `'${ref.path}/': not a directory`, { context: { path: entry.path } });
}

function isFile(path: string): boolean {
  try {
    const st = statSync(path);
    // A FIFO or socket too: named as an image, it gets the image opener's error (it is
    // not one) rather than be taken for a host path.
    return !st.isDirectory();
  } catch {
    return isSnapshotOfFile(path);
  }
}

/** `IMAGE@NAME` (a snapshot of a Cartridge image, read-only): IMAGE is a file and no file has the whole name; NAME may hold '@'. */
function isSnapshotOfFile(path: string): boolean {
  for (let at = path.lastIndexOf('@'); at > 0; at = path.lastIndexOf('@', at - 1)) {
    if (at === path.length - 1 || path.indexOf('/', at) >= 0) continue;
    try {
      if (statSync(path.slice(0, at)).isFile()) return true;
    } catch {
      // no file of that name: an earlier '@' may end the image's name
    }
  }
  return false;
}

/**
 * Splits `IMAGE:/PATH`. The inside path always starts with '/'. Where the image name
 * itself contains ':/', the split is the first one whose left side is an existing file.
 * Returns null when the argument names no image (a host path), unless `mustBeImage`.
 */
export function parseImageRef(arg: string, mustBeImage = true): ImageRef | null {
  const candidates: number[] = [];
  for (let i = arg.indexOf(':/'); i > 0; i = arg.indexOf(':/', i + 1)) candidates.push(i);
  for (const i of candidates) {
    if (isFile(arg.slice(0, i))) return insideRef(arg.slice(0, i), arg.slice(i + 1));
  }
  if (arg.endsWith(':') && isFile(arg.slice(0, -1))) return { image: arg.slice(0, -1), path: '/', explicitPath: true };
  if (!mustBeImage) return null;
  if (candidates.length > 0 && !existsSync(arg)) {
    const i = candidates[0]!;
    return insideRef(arg.slice(0, i), arg.slice(i + 1));
  }
  return { image: arg, path: '/', explicitPath: false };
}

function insideRef(image: string, inside: string): ImageRef {
  const path = normalizeInsidePath(inside);
  return path !== '/' && inside.endsWith('/') ? { image, path, explicitPath: true, mustBeDir: true } : { image, path, explicitPath: true };
}

/**
 * What is wrong with an argument meant as IMAGE:/PATH that did not parse as one, when
 * that can be told: `missing.img:/x` names an image that does not exist (E_NOT_FOUND);
 * `disk.img:boot/x` forgot the leading '/' (a usage error suggesting `disk.img:/boot/x`).
 * Null when the argument does not look like an image path at all.
 */
export function imageArgumentProblem(arg: string, usage: string): DiskkitError | null {
  const colon = arg.indexOf(':');
  if (colon <= 0) return null;
  const image = arg.slice(0, colon);
  const inside = arg.slice(colon + 1);
  if (isFile(image)) {
    if (inside.startsWith('/') || inside === '') return null;
    return new DiskkitError(ErrorCode.USAGE, `${usage}: the path inside the image starts with '/'`, { hint: `did you mean ${image}:/${inside}?` });
  }
  if (inside.startsWith('/') && !existsSync(image)) return new DiskkitError(ErrorCode.NOT_FOUND, 'no such image file', { context: { image } });
  return null;
}

/** Collapses repeated slashes; keeps a trailing '/.' (cp's "contents of") for the caller to see. */
export function normalizeInsidePath(path: string): string {
  const collapsed = path.replace(/\/+/g, '/');
  return collapsed.length > 1 && collapsed.endsWith('/') ? collapsed.slice(0, -1) : collapsed;
}

/**
 * Set (from cli.ts, before the action runs) when the command was given --json: a
 * failure then also prints a JSON error document on stdout, so a script reading
 * stdout always gets one document.
 */
let jsonErrorDocument = false;
export function setJsonErrorDocument(on: boolean): void {
  jsonErrorDocument = on;
}

/** The JSON document of a failed command: `{error:{code, message, image?, context?, hint?}, exitCode}`. */
export function errorDocument(image: string | undefined, error: unknown, exitCode: number): Record<string, unknown> {
  if (isDiskkitError(error)) {
    const where = (error.context.image as string | undefined) ?? image;
    const context = Object.fromEntries(Object.entries(error.context).filter(([key]) => key !== 'image'));
    return {
      error: { code: error.code, message: error.message, ...(where ? { image: where } : {}), ...(Object.keys(context).length ? { context } : {}), ...(error.hint ? { hint: error.hint } : {}) },
      exitCode,
    };
  }
  return { error: { code: 'E_INTERNAL', message: error instanceof Error ? error.message : String(error), ...(image ? { image } : {}) }, exitCode };
}

export { count } from '../engine/plural.js';

/**
 * The IMAGE:/PATH arguments of a command that edits one image (mkdir, rm, mv): each
 * must spell a path (`usage` is the hint, e.g. 'e.g. disk.img:/docs'), all in one image.
 */
export function oneImageRefs(paths: string[], command: string, usage: string, acrossImages = ''): { image: string; refs: ImageRef[] } {
  for (const p of paths) {
    const problem = parseImageRef(p)?.explicitPath ? null : imageArgumentProblem(p, `${command} takes IMAGE:/PATH arguments`);
    if (problem) throw problem;
  }
  const refs = paths.map((p) => parseImageRef(p)!);
  if (refs.length === 0 || refs.some((r) => !r.explicitPath)) throw usageError(`${command} takes IMAGE:/PATH arguments (${usage})`);
  const image = refs[0]!.image;
  if (refs.some((r) => r.image !== image)) throw usageError(`${command} works on one image at a time${acrossImages}`);
  return { image, refs };
}

/**
 * Opens `image` writable (a read-only image file only with `force`, as cp(1) and
 * mtools), runs `edit`, and commits what succeeded even when `edit` throws part-way
 * (as mkdir(1), rm(1) and mv(1) keep what they did), then closes.
 */
export async function editImage<T>(image: string, g: GlobalOptions, force: boolean, edit: (volume: import('../engine/volume.js').Volume) => T): Promise<T> {
  refuseReadOnlyImage(image, force);
  const { openVolume } = await import('../engine/open-volume.js');
  const volume = await openVolume(image, { partition: g.partition, writable: true });
  try {
    return edit(volume);
  } finally {
    try {
      volume.commit();
    } finally {
      volume.close();
    }
  }
}

/**
 * The whole command tree, every module loaded (completion and the man page need it).
 * cli.ts registers its builder here, so no command module imports cli.ts back.
 */
let programBuilder: (() => Promise<import('commander').Command>) | null = null;
export function setProgramBuilder(build: () => Promise<import('commander').Command>): void {
  programBuilder = build;
}
export function fullProgram(): Promise<import('commander').Command> {
  if (programBuilder === null) throw new DiskkitError(ErrorCode.USAGE, 'the command tree is not available here');
  return programBuilder();
}

/**
 * One JSON document on stdout, written to fd 1 directly (as ls and cat write): the
 * process.stdout stream costs a plain `info --json` a tenth of its start-up, and a
 * synchronous write cannot be lost to an exit before a pipe drained.
 */
export function printJson(value: unknown): void {
  writeAllSync(1, JSON.stringify(value, null, 2) + '\n');
}

/** Escapes control characters (and backslashes) so a hostile name cannot drive the terminal. */
export function escapeName(name: string): string {
  return name.replace(/[\u0000-\u001f\u007f-\u009f\\]/g, (c) => {
    if (c === '\\') return '\\\\';
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    return '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0');
  });
}

/**
 * Refuses to write to an image file whose permission bits allow no writing (chmod 444)
 * unless `force`: root could write it anyway, but cp(1) and mtools treat such a file
 * as protected. Devices and missing files are left to the open that follows.
 */
export function refuseReadOnlyImage(image: string, force: boolean): void {
  if (force) return;
  let mode: number;
  try {
    const st = statSync(image);
    if (!st.isFile()) return;
    mode = st.mode;
  } catch {
    return;
  }
  if ((mode & 0o222) !== 0) return;
  throw new DiskkitError(ErrorCode.READ_ONLY, `is read-only (mode ${(mode & 0o777).toString(8).padStart(4, '0')}): not written`, {
    context: { image },
    hint: 'add --force to write to it anyway, or make it writable (chmod u+w)',
  });
}

export function usageError(message: string): DiskkitError {
  return new DiskkitError(ErrorCode.USAGE, message);
}

/** Prints a warning for humans on stderr (not under --quiet; under --json warnings go into the document). */
export function warn(options: GlobalOptions, image: string | undefined, message: string): void {
  if (options.quiet || options.json) return;
  process.stderr.write(`diskkit: ${image ? image + ': ' : ''}warning: ${message}\n`);
}

/**
 * Runs a command action and turns what it throws into `diskkit: IMAGE: message` on
 * stderr and an exit code. `exitCodeFor` lets fsck map errors onto fsck(8) codes.
 */
export async function runAction(
  image: string | undefined,
  action: () => Promise<number | void> | number | void,
  exitCodeFor: (error: unknown) => number = defaultExitCode,
): Promise<void> {
  try {
    const code = await action();
    await reportRecoveries();
    process.exitCode = typeof code === 'number' ? code : ExitCode.OK;
  } catch (thrown) {
    await reportRecoveries();
    const error = toDiskkitError(thrown, 'standard output');
    // The reader of stdout went away (`| head`): stop quietly, as cat(1) does.
    if ((error as NodeJS.ErrnoException)?.code === 'EPIPE' || (error as { context?: { errno?: string } })?.context?.errno === 'EPIPE') {
      process.exitCode = ExitCode.OK;
      return;
    }
    if (process.stderr.isTTY) await loadErrorColour();
    reportError(image, error);
    process.exitCode = exitCodeFor(error);
    if (jsonErrorDocument) printJson(errorDocument(image, error, process.exitCode));
  }
}

/** Says on stderr when opening an image first rolled back a write that was interrupted earlier (see the engine's journal). */
async function reportRecoveries(): Promise<void> {
  // journal-path.ts, not the journal's index: a command that opened no journal loads none of its code.
  const { recoveries } = await import('../engine/journal/journal-path.js');
  for (const r of recoveries.splice(0)) {
    const what =
      r.action === 'rolled-back'
        ? `rolled back an interrupted diskkit write (${r.records} saved range${r.records === 1 ? '' : 's'} restored from ${r.journal})`
        : r.action === 'deleted-created-image'
          ? `removed the image an interrupted mkfs had started (${r.journal})`
          : `removed a finished or empty journal (${r.journal})`;
    if (!process.argv.includes('--json') && !process.argv.includes('-q') && !process.argv.includes('--quiet')) process.stderr.write(`diskkit: ${r.image}: warning: ${what}\n`);
  }
}

export function defaultExitCode(error: unknown): number {
  return (isDiskkitError(error) ? EXIT_CODE_BY_ERROR[error.code] : undefined) ?? ExitCode.ERROR;
}

/** Paints the `diskkit:` prefix of error lines; identity unless stderr is a colour terminal. */
let errorPrefix = (text: string): string => text;

/**
 * Colour for error lines on a terminal, unless `--no-color` or `NO_COLOR` says no.
 * chalk is loaded only here, when an error is about to be shown on a TTY.
 */
async function loadErrorColour(): Promise<void> {
  if (process.env.NO_COLOR || process.argv.includes('--no-color')) return;
  const { chalkStderr } = await import('chalk');
  if (chalkStderr.level > 0) errorPrefix = (text) => chalkStderr.red.bold(text);
}

/** `hint: false`: the caller prints hints itself (once, after a list of errors that share one). */
export function reportError(image: string | undefined, error: unknown, options: { hint?: boolean } = {}): void {
  if (process.env.DISKKIT_DEBUG === '1' && error instanceof Error) process.stderr.write((error.stack ?? String(error)) + '\n');
  if (isDiskkitError(error)) {
    const where = (error.context.image as string | undefined) ?? image;
    const details = describeContext(error.context, where);
    // Messages name paths and labels from the image: one escaping for all of it (see escapeName).
    process.stderr.write(`${errorPrefix('diskkit:')} ${where ? escapeName(where) + ': ' : ''}${escapeName(error.message)}${details}\n`);
    if (error.hint && options.hint !== false) process.stderr.write(`diskkit: hint: ${escapeName(error.hint)}\n`);
  } else {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${errorPrefix('diskkit:')} ${image ? escapeName(image) + ': ' : ''}internal error: ${escapeName(message)}\n`);
  }
}

/** The "(where)" part of an error line (describeContext), for a message reported elsewhere (a fleet lane's answer). */
export function errorDetails(context: Record<string, unknown>, where: string | undefined): string {
  return describeContext(context, where);
}

/**
 * The "(where)" part of an error line: path, cluster, field, record... whichever the
 * engine gave, except a path the line already starts with (`nope.img: … (path nope.img)`).
 */
function describeContext(context: Record<string, unknown>, where: string | undefined): string {
  const parts: string[] = [];
  for (const key of ['path', 'field', 'cluster', 'record', 'offset', 'partition']) {
    const value = context[key];
    if (key === 'path' && value === where) continue;
    if (value !== undefined && value !== null && typeof value !== 'object') parts.push(`${key} ${escapeName(String(value))}`);
  }
  return parts.length ? ` (${parts.join(', ')})` : '';
}
