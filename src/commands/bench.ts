/**
 * `diskkit bench IMAGE`: what an image and this machine can do, per read mode.
 * Parses and validates, runs the engine (src/engine/bench), and prints one of: an ink
 * view with live progress (stdout is a terminal), a plain table, or one JSON document.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { globalOptions, printJson, runAction } from './context.js';
import { addIoOptions, formatScanStats, scanOptionsFrom, type IoOptionValues } from './io-options.js';

interface BenchFlags extends IoOptionValues {
  seconds?: number;
  runs?: number;
  dropCache?: boolean;
  hash?: 'none' | 'crc32' | 'sha256';
  verbose?: boolean;
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 3600) throw new InvalidArgumentError(`expected seconds between 0 and 3600, not '${value}'`);
  return n;
}

function parseRuns(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 100) throw new InvalidArgumentError(`expected a number of runs from 1 to 100, not '${value}'`);
  return n;
}

function parseHash(value: string): string {
  if (!['none', 'crc32', 'sha256'].includes(value)) throw new InvalidArgumentError(`expected none, crc32 or sha256`);
  return value;
}

export function define(program: Command): void {
  const command = program
    .command('bench')
    .description('measure read throughput, random-read latency and metadata speed of an image, per read mode')
    .argument('<image>', 'an image of any format diskkit reads (all workloads) or any file (sequential read only)')
    .option('--seconds <s>', 'time budget per workload and mode (sizes the random-read runs)', parseSeconds, 2)
    .option('--runs <n>', 'repetitions per workload and mode (median and spread reported)', parseRuns, 3)
    .option('--drop-cache', 'empty the page cache before each run, where the OS allows (cold reads)')
    .option('--hash <work>', 'per-chunk work in the sequential read: crc32, sha256 (CPU-heavy; runs in the workers in parallel mode) or none', parseHash, 'crc32')
    .option('-v, --verbose', 'say which mode auto picked and why; print per-mode I/O statistics');
  addIoOptions(command, { allowAll: true, defaultMode: 'auto' });
  command.action((image: string, flags: BenchFlags, cmd: Command) =>
    runAction(image, async () => {
      const global = globalOptions(cmd);
      const { CONCRETE_MODES } = await import('../io/scan.js');
      const { openBenchTarget } = await import('../engine/bench/target.js');
      const { runBench } = await import('../engine/bench/run-bench.js');
      const { withInterrupt } = await import('./io-options.js');
      const scan = scanOptionsFrom(flags);
      const modes = flags.mode === 'all' ? [...CONCRETE_MODES] : [scan.mode ?? 'auto'];
      const live = !global.json && Boolean(process.stdout.isTTY);
      const view = live ? await (await import('./bench-view.js')).startBenchView(process.stdout, { color: global.color }) : null;
      const target = await openBenchTarget(image, { partition: global.partition });
      try {
        const report = await withInterrupt((signal) =>
          runBench(target, {
            modes,
            runs: flags.runs ?? 3,
            seconds: flags.seconds ?? 2,
            chunkSize: scan.chunkSize,
            depth: scan.depth,
            workers: scan.workers,
            hash: flags.hash ?? 'crc32',
            dropCache: Boolean(flags.dropCache),
            signal,
            onEvent: view?.onEvent,
          }),
        ).catch(async (error: unknown) => {
          await view?.abort();
          throw error;
        });
        if (global.json) {
          printJson(report);
        } else if (view) {
          await view.finish(report);
        } else {
          const { formatBenchReport } = await import('./bench-table.js');
          process.stdout.write(formatBenchReport(report));
        }
        if (!global.json && (flags.stats || flags.verbose)) {
          for (const [name, w] of Object.entries(report.workloads)) {
            if (!('byMode' in w)) continue;
            for (const row of w.byMode) {
              const lines = formatScanStats({ mode: row.ranAs as never, requestedMode: row.mode, autoReason: row.autoReason, bytes: w.bytes, chunks: row.stats.chunkLatencyMs.count, chunkSize: row.chunkSize, depth: row.depth, workers: row.workers, stats: row.stats });
              for (const line of lines) process.stderr.write(`diskkit: stats: ${name} ${row.mode}: ${line}\n`);
            }
          }
        }
      } finally {
        target.close();
      }
    }),
  );
}
