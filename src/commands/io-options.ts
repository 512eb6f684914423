/**
 * The read-mode options every scanning command shares (cat, cp, fsck, mft index,
 * bench): `--mode`, `--chunk-size`, `--depth`, `--workers`, `--stats`; their
 * validation (a bad value is a usage error, exit 2); the --stats printer; and the
 * Ctrl-C wiring that turns SIGINT into an AbortSignal for the scan.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { READ_MODES, type ReadMode } from '../io/read-mode-names.js';
import type { ScanOptions, ScanResult } from '../io/scan.js';
import { formatBytes } from '../engine/byte-size.js';

export interface IoOptionValues {
  mode?: string;
  chunkSize?: number;
  depth?: number;
  workers?: number;
  stats?: boolean;
}

/** Parses a byte count with an optional K/M/G suffix (powers of 1024): `64K`, `1M`, `4096`; 1 byte to 256M. */
export function parseByteSize(value: string): number {
  return parseByteCount(value, 1, 256 * 1024 ** 2, '1 byte', '256M');
}

/** parseByteSize within [min, max] (the names say them in the error). */
export function parseByteCount(value: string, min: number, max: number, minName: string, maxName: string): number {
  const m = /^(\d+)\s*([kKmMgG]?)(i?[bB])?$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`expected a byte count such as 65536, 64K or 1M, not '${value}'`);
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  const n = Number(m[1]) * scale;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be from ${minName} to ${maxName}, not '${value}'`);
  return n;
}

function parseCount(max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`expected a whole number from 1 to ${max}, not '${value}'`);
    return n;
  };
}

function parseMode(allowAll: boolean): (value: string) => string {
  const choices = allowAll ? [...READ_MODES, 'all'] : [...READ_MODES];
  return (value) => {
    if (!choices.includes(value)) throw new InvalidArgumentError(`expected one of ${choices.join(', ')}`);
    return value;
  };
}

/**
 * Adds the read-mode options to `command`. With `allowAll` (bench), `--mode all` is
 * accepted too. `defaultMode` is what the command uses without --mode (said in --help).
 */
export function addIoOptions(command: Command, options: { allowAll?: boolean; defaultMode?: 'streaming' | 'auto' } = {}): Command {
  return command
    .option('--mode <mode>', `read mode: ${READ_MODES.join(', ')}${options.allowAll ? ', all' : ''} (default: ${options.defaultMode ?? 'streaming'})`, parseMode(Boolean(options.allowAll)))
    .option('--chunk-size <bytes>', 'bytes per read chunk (K/M suffixes; default per mode)', parseByteSize)
    .option('--depth <n>', 'prefetch buffers, pipeline queue length or parallel slots', parseCount(1024))
    .option('--workers <n>', 'worker threads for --mode parallel (default: available cores)', parseCount(256))
    .option('--stats', 'print I/O statistics (on stderr; included in --json)');
}

/** Turns parsed option values into ScanOptions (the mode `all` is bench's own and is not passed here). */
export function scanOptionsFrom(values: IoOptionValues): ScanOptions {
  const out: ScanOptions = {};
  if (values.mode && values.mode !== 'all') out.mode = values.mode as ReadMode;
  if (values.chunkSize !== undefined) out.chunkSize = values.chunkSize;
  if (values.depth !== undefined) out.depth = values.depth;
  if (values.workers !== undefined) out.workers = values.workers;
  return out;
}

/** The --stats lines for humans, on stderr (under --json, put `result` in the document instead). */
export function formatScanStats(result: ScanResult): string[] {
  const s = result.stats;
  const secs = s.wallMs / 1000;
  const lines = [
    `mode ${result.mode}${result.autoReason ? ` (auto: ${result.autoReason})` : ''}, chunk ${formatBytes(result.chunkSize)}, depth ${result.depth}${result.workers ? `, ${result.workers} workers` : ''}`,
    `${result.chunks} chunks, ${formatBytes(result.bytes)} in ${s.readCalls} read calls, ${secs.toFixed(3)} s (${secs > 0 ? (result.bytes / 1e6 / secs).toFixed(0) : '-'} MB/s)`,
    `waiting for I/O ${(s.ioWaitMs / 1000).toFixed(3)} s, reading ${(s.readMs / 1000).toFixed(3)} s, processing ${(s.processMs / 1000).toFixed(3)} s${s.workerStartMs ? `, worker start-up ${s.workerStartMs.toFixed(0)} ms${s.workersStartedAhead ? ' (started ahead)' : ''}` : ''}`,
    `chunk latency p50 ${s.chunkLatencyMs.p50} ms, p95 ${s.chunkLatencyMs.p95} ms, p99 ${s.chunkLatencyMs.p99} ms, max ${s.chunkLatencyMs.max} ms; queue mean ${s.queue.mean} of ${s.queue.capacity} (max ${s.queue.max})`,
  ];
  for (const [name, c] of Object.entries(s.caches)) {
    const total = c.hits + c.misses;
    lines.push(`${name} cache: ${c.hits} hits, ${c.misses} misses${total ? ` (${((c.hits / total) * 100).toFixed(1)}% hits)` : ''}`);
  }
  return lines;
}

export function printScanStats(result: ScanResult, stream: NodeJS.WritableStream = process.stderr): void {
  for (const line of formatScanStats(result)) stream.write(`diskkit: stats: ${line}\n`);
}

/**
 * Runs `task` with an AbortSignal that the first Ctrl-C (SIGINT) fires: the scan stops
 * promptly with E_CANCELLED and atomic outputs delete their temporary file. A second
 * Ctrl-C exits at once (exit hooks still remove temporaries).
 */
export async function withInterrupt<T>(task: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let presses = 0;
  const onSigint = (): void => {
    presses++;
    if (presses > 1) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    return await task(controller.signal);
  } finally {
    process.off('SIGINT', onSigint);
  }
}
