/**
 * The bulk-read options shared by cat and cp (`--mode`, `--chunk-size`), passed
 * through to src/io/scan.ts scanExtents.
 */
import type { Command } from 'commander';
import { usageError } from './context.js';

const MODES = ['streaming', 'prefetch', 'pipelined', 'parallel', 'mmap', 'auto'] as const;

export interface ReadOptionValues {
  mode?: (typeof MODES)[number];
  chunkSize?: number;
}

export function addReadOptions(command: Command): Command {
  return command
    .option('--mode <mode>', `read mode: ${MODES.join(', ')}`)
    .option('--chunk-size <bytes>', 'bytes per read (suffixes K, M, G)');
}

/** Validates the raw option values. */
export function readOptions(raw: { mode?: string; chunkSize?: string }): ReadOptionValues {
  const out: ReadOptionValues = {};
  if (raw.mode !== undefined) {
    if (!(MODES as readonly string[]).includes(raw.mode)) throw usageError(`--mode must be one of ${MODES.join(', ')}, not '${raw.mode}'`);
    out.mode = raw.mode as ReadOptionValues['mode'];
  }
  if (raw.chunkSize !== undefined) {
    const m = /^(\d+)([KMG]?)i?B?$/i.exec(raw.chunkSize.trim());
    const n = m ? Number(m[1]) * { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'] : NaN;
    if (!Number.isInteger(n) || n < 512 || n > 1024 ** 3) throw usageError(`--chunk-size must be a size from 512 bytes to 1G, not '${raw.chunkSize}'`);
    out.chunkSize = n;
  }
  return out;
}
