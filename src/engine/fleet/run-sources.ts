/**
 * Running many sources at once (issue 13): at most `jobs` at a time, each failure
 * kept with its source and never stopping the others, results in the sources'
 * order whatever order they finished in. One pipeline per source; the threads a
 * pipeline may start come from one budget shared by the running jobs
 * (threadsPerJob), so N sources never start N × cores threads.
 */
import { DiskkitError, ErrorCode, isDiskkitError, type ErrorCodeValue } from '../errors.js';

/** A source's failure: its DiskkitError's code and message, and the context's plain values (for the command to word the "(where)" part). */
export interface SourceError {
  code: string;
  message: string;
  context: Record<string, string | number | boolean>;
}

export type SourceOutcome<T> = { source: string; ok: true; value: T } | { source: string; ok: false; error: SourceError };

/** Threads one job may use when `jobs` of `sources` run at once on `budget` threads (at least 1). */
export function threadsPerJob(budget: number, jobs: number, sources: number): number {
  const running = Math.max(1, Math.min(jobs, sources));
  return Math.max(1, Math.floor(budget / running));
}

/**
 * The order in which to hand sources out: the largest first (ties keep the given
 * order). A lane takes the next source when it is free, so with the long ones
 * started first the short ones fill in around them and the lanes finish close
 * together; a long source handed out last would run alone on one core at the end
 * while the other lanes sit idle (longest-processing-time-first scheduling).
 */
export function largestFirst(sizes: readonly number[]): number[] {
  return sizes.map((_, i) => i).sort((a, b) => sizes[b]! - sizes[a]! || a - b);
}

/**
 * Runs `runOne` for every source, at most `jobs` at once, handing the sources out
 * from one queue in `order` (every position once; default: as given). `runOne` gets the source,
 * its position and the lane (0 … jobs-1) running it: a lane runs one source at a
 * time. After `signal` aborts no new source starts; the running ones
 * are expected to see the signal themselves. Every source gets an outcome, at its position.
 */
export async function runSources<T>(
  sources: readonly string[],
  options: { jobs: number; signal?: AbortSignal | undefined; order?: readonly number[]; onDone?: (outcome: SourceOutcome<T>, position: number) => void },
  runOne: (source: string, position: number, lane: number) => Promise<T>,
): Promise<SourceOutcome<T>[]> {
  const outcomes: SourceOutcome<T>[] = new Array(sources.length);
  const order = options.order ?? sources.map((_, i) => i);
  let next = 0;
  const lane = async (_: unknown, laneNumber: number): Promise<void> => {
    while (next < order.length) {
      const i = order[next++]!;
      const source = sources[i]!;
      let outcome: SourceOutcome<T>;
      if (options.signal?.aborted) outcome = { source, ok: false, error: { code: ErrorCode.CANCELLED, message: 'not started: interrupted', context: {} } };
      else {
        try {
          outcome = { source, ok: true, value: await runOne(source, i, laneNumber) };
        } catch (error) {
          outcome = { source, ok: false, error: describeFailure(error) };
        }
      }
      outcomes[i] = outcome;
      options.onDone?.(outcome, i);
    }
  };
  const lanes = Math.max(1, Math.min(options.jobs, sources.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  return outcomes;
}

function describeFailure(error: unknown): SourceError {
  if (!isDiskkitError(error)) return { code: ErrorCode.IO, message: error instanceof Error ? error.message : String(error), context: {} };
  const context: SourceError['context'] = {};
  for (const [key, value] of Object.entries(error.context)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') context[key] = value;
  }
  return { code: error.code, message: error.message, context };
}

/** A source's failure as an error (for a caller that wants the first one thrown). */
export function outcomeError(outcome: SourceOutcome<unknown>): DiskkitError | null {
  return outcome.ok ? null : new DiskkitError(outcome.error.code as ErrorCodeValue, outcome.error.message, { context: { image: outcome.source } });
}
