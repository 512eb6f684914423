/**
 * One lane of `mft index SRC...` (fleet-index.ts): a process that indexes the sources
 * its parent sends over the IPC channel, one after another, and answers each with
 * its summary or its error. A process per lane rather than per source: every new
 * process paid Node's start and the CLI's module loading (~0.15-0.2 CPU s, as much
 * as indexing 60,000 records), which with four 250,000-record dumps on two cores was
 * about a quarter of the run's CPU. The lane loads only the engine, not the command
 * tree, and builds each source's index in the memory of the previous one's (fresh
 * pages cost a fault each on first write: ~0.15 CPU s for a 250,000-record source).
 * A source's failure is an answer like a summary; a crash ends the lane, and the
 * parent reports the source it was indexing and starts a new lane for the rest.
 *
 * Ctrl-C (SIGINT from the parent): the running source stops (its --out temporary
 * file is deleted), is answered as cancelled, and the lane exits 130.
 */
import { statSync } from 'node:fs';
import type { MftIndexRequest, MftIndexSummary } from '../ntfs/index.js';
import { toDiskkitError, isDiskkitError, ErrorCode } from '../errors.js';
import { threadBudget } from '../../io/thread-budget.js';
import { secondCoreFree } from '../../io/auto.js';

/** One source's pipeline, as mft index --json --quiet SRC would run it (rows only to `out`, or counted). */
export type LaneJob = Pick<MftIndexRequest, 'format' | 'streams' | 'deleted' | 'strict' | 'skipUnused' | 'mode' | 'chunkSize' | 'partition'> & {
  source: string;
  out: string | null;
  depth: number | undefined;
  workers: number;
  stats: boolean;
};

/** A source's error as it crosses the IPC channel: the DiskkitError's code, message and the context's plain values. */
export interface LaneError {
  code: string;
  message: string;
  context: Record<string, string | number | boolean>;
}

type LaneAnswer = { ok: true; summary: MftIndexSummary } | { ok: false; error: LaneError };

/**
 * A source's answer, with the lane's CPU time so far (user + system, all its threads,
 * from the process's start: Node's start and the module loading included). The
 * coordinator adds up its lanes' last figures for the run's CPU seconds, so that the
 * work of starting lanes, which the sources' own figures leave out, is counted.
 */
export type LaneReply = LaneAnswer & { laneCpuSeconds: number };

/** CPU seconds this process has used since it started (all threads). */
function processCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/**
 * The arrays of the last source's index (record table, name lists, grouping), taken
 * over by the next source's: a lane's second and later sources write to memory that
 * is touched already instead of faulting in ~12,000 fresh pages each (index-memory.ts).
 */
let memory: import('../ntfs/index.js').IndexMemory | null = null;

async function runJob(job: LaneJob, signal: AbortSignal): Promise<LaneAnswer> {
  try {
    const { runMftIndex, startParseWorkers, AUTO_PARALLEL_MFT_BYTES, IndexMemory } = await import('../ntfs/index.js');
    memory ??= new IndexMemory();
    // As the one-source command: parse workers boot while the MFT is located, when parallel is likely.
    const auto = job.mode === 'auto';
    const pool = job.mode === 'parallel' || (auto && threadBudget() >= 2 && secondCoreFree(threadBudget()) && sizeOf(job.source) >= AUTO_PARALLEL_MFT_BYTES)
      ? startParseWorkers(job.workers)
      : undefined;
    try {
      const summary = await runMftIndex(job.source, {
        format: job.out === null ? 'none' : job.format,
        out: job.out ?? undefined,
        streams: job.streams,
        deleted: job.deleted,
        strict: job.strict,
        skipUnused: job.skipUnused,
        mode: job.mode,
        chunkSize: job.chunkSize,
        depth: job.depth,
        workers: job.workers,
        partition: job.partition,
        stats: job.stats,
        pool,
        signal,
        memory,
      });
      return { ok: true, summary };
    } finally {
      await pool?.close();
    }
  } catch (thrown) {
    const error = toDiskkitError(thrown);
    if (!isDiskkitError(error)) return { ok: false, error: { code: ErrorCode.IO, message: `internal error: ${error instanceof Error ? error.message : String(error)}`, context: {} } };
    const context: LaneError['context'] = {};
    for (const [key, value] of Object.entries(error.context)) {
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') context[key] = value;
    }
    return { ok: false, error: { code: error.code, message: error.message, context } };
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

if (process.send !== undefined) {
  let running: AbortController | null = null;
  let interrupted = false;
  process.on('SIGINT', () => {
    interrupted = true;
    if (running) running.abort();
    else process.exit(130);
  });
  // No forced collection between sources (a gc() there cost 0.15-0.28G instructions
  // per source, cachegrind; 4-7% of a 250,000-record source's work): the last source's
  // index arrays (~45 MiB for 250,000 records) are not garbage but taken over by the
  // next source (`memory` above), so a lane indexing two such sources peaks ~107 MiB
  // like one indexing one, where it peaked ~150 MiB with fresh arrays for each.
  process.on('message', (job: LaneJob) => {
    running = new AbortController();
    void runJob(job, running.signal).then((reply) => {
      running = null;
      process.send!({ ...reply, laneCpuSeconds: processCpuSeconds() } satisfies LaneReply, undefined, undefined, () => {
        if (interrupted) process.exit(130);
      });
    });
  });
  // The parent is done (or gone): nothing more will come.
  process.on('disconnect', () => process.exit(0));
}
