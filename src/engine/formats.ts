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
  /** Opens a volume of this format on `source`. The caller closes `source` if this throws. */
  open(source: BlockSource, options: FormatOpenOptions): Volume;
  /** Format-specific hooks (mkfs, fsck, bench...), looked up by name through requireHook. */
  hooks?: Record<string, unknown>;
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

/** The format `source` holds, or null. Reads PROBE_BYTES (fewer from a smaller source). */
export function probeSource(source: BlockSource): FormatDefinition | null {
  const length = Math.min(PROBE_BYTES, source.size);
  if (length <= 0) return null;
  const head = new Uint8Array(length);
  source.readAt(head, 0, length, 0);
  for (const format of formats) if (format.probe(head, source)) return format;
  return null;
}

/** A format's hook, or E_UNSUPPORTED naming the format and what it cannot do. */
export function requireHook<T>(format: FormatDefinition, hook: string): T {
  const found = format.hooks?.[hook];
  if (found === undefined) {
    throw new DiskkitError(ErrorCode.UNSUPPORTED, `${format.title} does not support ${hook}`, { context: { format: format.name, operation: hook } });
  }
  return found as T;
}
