/**
 * The format registry: the one place that knows which file-system formats exist.
 * Each format lives in its own folder under src/engine/ and exposes a FormatDefinition
 * from its index.ts; adding a format is that folder plus one line in FORMATS below.
 * image.ts probes through here, open-volume.ts opens through here, and the commands
 * that need a format's own abilities (mkfs, fsck, bench) ask here for the hook.
 */
import type { BlockSource } from '../io/block-source.js';
import type { Volume } from './volume.js';
import { DiskkitError, ErrorCode } from './errors.js';

/** What a format can do beyond reading; commands check these before calling a hook. */
export type FormatCapability = 'read' | 'write' | 'mkfs' | 'fsck' | 'repair' | 'bench' | 'snapshots' | 'encryption';

export interface FormatOpenOptions {
  writable?: boolean;
  /** A snapshot to open read-only (IMAGE@NAME:/PATH), for formats with the 'snapshots' capability. */
  snapshot?: string;
}

/**
 * A format as the registry sees it. `probe` looks at the first bytes of a source
 * (at least PROBE_BYTES are passed when the source has them) and must never throw for
 * foreign data. Hooks a format lacks are left out and listed as missing capabilities;
 * calling one through `requireHook` gives E_UNSUPPORTED naming the format.
 *
 * The hook payloads (`mkfs`, `fsck`) are typed by the format that provides them and
 * narrowed by the command that uses them; the registry only carries them.
 */
export interface FormatDefinition {
  /** Short lower-case id, as in `--type` and JSON `format` ('fat', 'ntfs', 'cartridge'). */
  name: string;
  /** Human name for messages ('FAT12/16/32', 'NTFS (read-only)'). */
  title: string;
  capabilities: readonly FormatCapability[];
  /** True when `head` (the source's first bytes) starts a volume of this format. */
  probe(head: Uint8Array, source: BlockSource): boolean;
  /**
   * Opens a volume of this format on `source`. The caller closes `source` if this
   * throws (or rejects). May be async so that a format's volume code is imported only
   * when an image of that format is opened: every command loads every probe, and
   * start-up time is most of what a scripted call costs.
   */
  open(source: BlockSource, options: FormatOpenOptions): Volume | Promise<Volume>;
  /** Format-specific hooks (mkfs, fsck, bench...), looked up by name through requireHook. */
  hooks?: FormatHooks;
  /**
   * Set on the one format whose `open` best explains why a source no format recognised
   * is not a volume (FAT: it names the bad boot-sector field). Without one, such a
   * source is E_UNKNOWN_FORMAT.
   */
  explainsUnknown?: boolean;
}

/** What `mkfs` asks of a format. Fields a format has no use for are ignored by it. */
export interface MkfsRequest {
  image: string;
  /** 1-based partition to format in place (--partition), else the whole image. */
  partition?: number;
  /** Volume size in bytes; undefined: the existing target's size, or sized from `from` (auto). */
  size?: number;
  /** A host directory the new volume must hold (mkfs --from): with `size` undefined, the size is chosen from it. */
  from?: { dir: string; headroom: number };
  /** The variant named by --type (fat12/fat16/fat32 for FAT), or undefined for the format's choice. */
  variant?: string;
  clusterSize?: number;
  sectorSize: number;
  /** Copies of the allocation table (FAT --fats). */
  tableCopies: number;
  /** Entries of a fixed-size root directory (FAT12/16 -r / --root-entries), else the format's choice. */
  rootEntries?: number;
  label: string;
  /** As typed (--volume-id); the format parses it. */
  volumeId?: string;
  force: boolean;
  /** Fixed ids and times (--invariant or SOURCE_DATE_EPOCH); `epoch` in seconds when SOURCE_DATE_EPOCH is set. */
  reproducible: boolean;
  epoch?: number;
  /** Cartridge: default extent compression (--compress lz4|zstd|none). */
  compression?: string;
  /** Cartridge: encrypt the image (--encrypt; the passphrase comes from engine/passphrase.ts). */
  encrypt?: boolean;
  /** Cartridge: page checksum algorithm (--checksum crc32|sha256). */
  checksum?: string;
}

/** What a format's mkfs made: the fields `--json` prints, the line for humans, warnings. */
export interface MkfsOutcome {
  fields: Record<string, unknown>;
  summary: string;
  warnings: string[];
}

/** One problem fsck found (or could not fix). */
export interface FsckFinding {
  code: string;
  message: string;
  path?: string[];
  clusters?: number[];
  /** On a summary line: how many more findings of `code` were counted but not listed. */
  omitted?: number;
}

/** What a format's fsck reports; `stats` goes into --json as it is, `statsLine`/`summary` are for people. */
export interface FsckOutcome {
  clean: boolean;
  errors: FsckFinding[];
  repairs: { code: string; message: string; path?: string }[];
  uncorrected: FsckFinding[];
  stats: object;
  /** The -v statistics line. */
  statsLine: string;
  /** The last line: what was checked (files, space), without the verdict. */
  summary: string;
}

export interface FsckRequest {
  repair: boolean;
  freeLost: boolean;
  mode?: import('../io/scan.js').ReadMode;
}

/** The target mkfs formats: a whole image or a partition (`start` bytes into its disk). */
export interface MkfsTargetView {
  source: BlockSource;
  volumeBytes: number;
  start: number;
  /** True when the target reads as zeros (a new sparse file). */
  fresh: boolean;
}

export interface MkfsHook {
  /** Validates the request and settles the volume size (undefined: the target's own) before any file is made. */
  plan(request: MkfsRequest): Promise<number | undefined>;
  format(target: MkfsTargetView, request: MkfsRequest): Promise<MkfsOutcome>;
  /**
   * For formats whose image is a file they grow themselves (Cartridge): makes the whole
   * image, filled from `request.from` when given, in place of `format` and the command's
   * target and journal handling. A failure leaves no new image behind.
   */
  create?(request: MkfsRequest): Promise<MkfsOutcome & { filled: MkfsFilled | null }>;
}

/** What a `create` hook copied from `--from`. */
export interface MkfsFilled {
  files: number;
  directories: number;
  bytes: number;
  skipped: { path: string; reason: string }[];
}

export interface FormatHooks {
  mkfs?: MkfsHook;
  fsck?: (source: BlockSource, request: FsckRequest) => Promise<FsckOutcome>;
  [hook: string]: unknown;
}

/** Bytes read from the start of a source for probing. */
export const PROBE_BYTES = 4096;

const formats: FormatDefinition[] = [];

/** Adds a format. Order matters: the first format whose probe matches wins. */
export function registerFormat(format: FormatDefinition): void {
  if (formats.some((f) => f.name === format.name)) {
    throw new DiskkitError(ErrorCode.UNSUPPORTED, `format '${format.name}' is registered twice`, { context: { format: format.name } });
  }
  formats.push(format);
}

/** Removes a format (tests that register a throwaway format clean up with this). */
export function unregisterFormat(name: string): void {
  const i = formats.findIndex((f) => f.name === name);
  if (i >= 0) formats.splice(i, 1);
}

export function listFormats(): readonly FormatDefinition[] {
  return formats;
}

export function findFormat(name: string): FormatDefinition | undefined {
  return formats.find((f) => f.name === name);
}

/** The registered formats' titles for messages: `Cartridge, FAT12/16/32 or NTFS`. */
export function knownFormatTitles(): string {
  const titles = formats.map((f) => f.title).sort();
  return titles.length > 1 ? `${titles.slice(0, -1).join(', ')} or ${titles[titles.length - 1]}` : (titles[0] ?? 'no');
}

/** The format `source` holds, or null. Reads PROBE_BYTES (fewer from a smaller source). */
export function probeSource(source: BlockSource): FormatDefinition | null {
  const length = Math.min(PROBE_BYTES, source.size);
  if (length <= 0) return null;
  const head = new Uint8Array(length);
  source.readAt(head, 0, length, 0);
  for (const format of formats) if (format.probe(head, source)) return format;
  return null;
}

/**
 * The format to open a probed source with: the one that recognised it, else the one
 * that explains why the source is not a volume (FAT names the bad boot-sector field),
 * else E_UNKNOWN_FORMAT.
 */
export function formatToOpen(probed: FormatDefinition | null): FormatDefinition {
  if (probed !== null) return probed;
  const explainer = formats.find((f) => f.explainsUnknown);
  if (explainer !== undefined) return explainer;
  throw new DiskkitError(ErrorCode.UNKNOWN_FORMAT, `no file system diskkit knows (${formats.map((f) => f.title).join(', ')})`);
}

/** A format by name, or E_USAGE listing the formats there are. */
export function requireFormat(name: string): FormatDefinition {
  const found = findFormat(name);
  if (found === undefined) {
    throw new DiskkitError(ErrorCode.USAGE, `unknown format '${name}' (known: ${formats.map((f) => f.name).join(', ')})`, { context: { format: name } });
  }
  return found;
}

/** A format's hook, or E_UNSUPPORTED naming the format and what it cannot do. */
export function requireHook<K extends keyof FormatHooks>(format: FormatDefinition, hook: K & string): NonNullable<FormatHooks[K]> {
  const found = format.hooks?.[hook];
  if (found === undefined) {
    throw new DiskkitError(ErrorCode.UNSUPPORTED, `${format.title} does not support ${hook}`, { context: { format: format.name, operation: hook } });
  }
  return found as NonNullable<FormatHooks[K]>;
}

/** E_UNSUPPORTED for `operation`, which volumes of `format` (a registered name) cannot do: "`<title> <what>`". */
export function unsupportedError(format: string, operation: string, what: string, image?: string): DiskkitError {
  const title = findFormat(format)?.title ?? format;
  return new DiskkitError(ErrorCode.UNSUPPORTED, `${title} ${what}`, { context: { format, operation, ...(image !== undefined ? { image } : {}) } });
}

/** E_READ_ONLY for a write asked of a format diskkit only reads. */
export function readOnlyError(title: string, image: string | undefined): DiskkitError {
  return new DiskkitError(ErrorCode.READ_ONLY, `${title} volumes are read-only in diskkit: nothing was written`, {
    context: { image },
    hint: 'copy the files out (cp -r IMAGE:/ DIR) or into an image of a writable format',
  });
}
