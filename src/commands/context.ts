/**
 * What every command shares: the global options, the image-argument syntax
 * (`IMAGE:/PATH`), JSON output, and the one place errors become exit codes.
 * Kept light: command modules import it at start-up.
 */
import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { DiskkitError, ErrorCode, isDiskkitError } from '../engine/errors.js';
import { EXIT_CODE_BY_ERROR, ExitCode } from './exit-codes.js';

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
}

function isFile(path: string): boolean {
  try {
    const st = statSync(path);
    return st.isFile() || st.isBlockDevice() || st.isCharacterDevice();
  } catch {
    return false;
  }
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
    if (isFile(arg.slice(0, i))) return { image: arg.slice(0, i), path: normalizeInsidePath(arg.slice(i + 1)), explicitPath: true };
  }
  if (arg.endsWith(':') && isFile(arg.slice(0, -1))) return { image: arg.slice(0, -1), path: '/', explicitPath: true };
  if (!mustBeImage) return null;
  if (candidates.length > 0 && !existsSync(arg)) {
    const i = candidates[0]!;
    return { image: arg.slice(0, i), path: normalizeInsidePath(arg.slice(i + 1)), explicitPath: true };
  }
  return { image: arg, path: '/', explicitPath: false };
}

/** Collapses repeated slashes; keeps a trailing '/.' (cp's "contents of") for the caller to see. */
export function normalizeInsidePath(path: string): string {
  const collapsed = path.replace(/\/+/g, '/');
  return collapsed.length > 1 && collapsed.endsWith('/') ? collapsed.slice(0, -1) : collapsed;
}

/**
 * The IMAGE:/PATH arguments of a command that edits one image (mkdir, rm, mv): each
 * must spell a path (`usage` is the hint, e.g. 'e.g. disk.img:/docs'), all in one image.
 */
export function oneImageRefs(paths: string[], command: string, usage: string, acrossImages = ''): { image: string; refs: ImageRef[] } {
  const refs = paths.map((p) => parseImageRef(p)!);
  if (refs.length === 0 || refs.some((r) => !r.explicitPath)) throw usageError(`${command} takes IMAGE:/PATH arguments (${usage})`);
  const image = refs[0]!.image;
  if (refs.some((r) => r.image !== image)) throw usageError(`${command} works on one image at a time${acrossImages}`);
  return { image, refs };
}

/**
 * Opens `image` writable, runs `edit`, and commits what succeeded even when `edit`
 * throws part-way (as mkdir(1), rm(1) and mv(1) keep what they did), then closes.
 */
export async function editImage<T>(image: string, g: GlobalOptions, edit: (volume: import('../engine/volume.js').Volume) => T): Promise<T> {
  const { openVolume } = await import('../engine/open-volume.js');
  const volume = openVolume(image, { partition: g.partition, writable: true });
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

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
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
    process.exitCode = typeof code === 'number' ? code : ExitCode.OK;
  } catch (error) {
    // The reader of stdout went away (`| head`): stop quietly, as cat(1) does.
    if ((error as NodeJS.ErrnoException)?.code === 'EPIPE' || (error as { context?: { errno?: string } })?.context?.errno === 'EPIPE') {
      process.exitCode = ExitCode.OK;
      return;
    }
    if (process.stderr.isTTY) await loadErrorColour();
    reportError(image, error);
    process.exitCode = exitCodeFor(error);
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

export function reportError(image: string | undefined, error: unknown): void {
  if (process.env.DISKKIT_DEBUG === '1' && error instanceof Error) process.stderr.write((error.stack ?? String(error)) + '\n');
  if (isDiskkitError(error)) {
    const where = (error.context.image as string | undefined) ?? image;
    const details = describeContext(error.context);
    process.stderr.write(`${errorPrefix('diskkit:')} ${where ? where + ': ' : ''}${error.message}${details}\n`);
    if (error.hint) process.stderr.write(`diskkit: hint: ${error.hint}\n`);
  } else {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${errorPrefix('diskkit:')} ${image ? image + ': ' : ''}internal error: ${message}\n`);
  }
}

/** The "(where)" part of an error line: path, cluster, field, record... whichever the engine gave. */
function describeContext(context: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const key of ['path', 'field', 'cluster', 'record', 'offset', 'partition']) {
    const value = context[key];
    if (value !== undefined && value !== null && typeof value !== 'object') parts.push(`${key} ${escapeName(String(value))}`);
  }
  return parts.length ? ` (${parts.join(', ')})` : '';
}
