/**
 * `diskkit mft index SRC... [--out-dir DIR] [--jobs N]` (issue 13): one indexing
 * pipeline per source, at most --jobs at a time, each run in a lane process
 * (fleet-lane.ts) that indexes its sources one after another. A process of its
 * own keeps a pipeline's failure, memory and threads apart from the others' and
 * lets two pipelines use two cores (a pipeline's index build and row output run on
 * one thread); a lane rather than a process per source saves a Node start and the
 * module loading for every source after a lane's first. A lane that crashes fails
 * only the source it was indexing; a new lane takes the rest. This process runs no
 * lane itself: that would save one lane's start (~0.5G instructions, most of it
 * module loading) but not the wall time of a run whose other lanes still start, and
 * a fatal error there (out of memory, a native crash) would end every source. Lanes
 * as worker threads were measured too: a worker's start with the same module loading
 * cost 0.17-0.19 CPU s against a process's 0.19-0.20 (module loading dominates both),
 * too little to give up that isolation and each lane's own peak memory. The
 * threads each pipeline may start (parse and format workers) come from one budget:
 * the cores, divided by the sources running at once.
 *
 * Sources are handed out from one queue. With --out-dir (or no output) the largest go
 * first, so that a long source does not start last and run alone while the other
 * lanes idle; the combined stream takes them in the sources' order, so that each
 * source's rows are copied out while the rest are indexed. Outputs and the summary
 * keep the sources' order.
 *
 * With --out-dir each source gets its own file there, written atomically by its
 * pipeline. Without it, each pipeline writes a private temporary file and the rows
 * are copied to stdout (or --out) in the sources' order, with the source in front
 * of each row: the output does not depend on --jobs or on which source finished first.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, createReadStream, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DiskkitError, ErrorCode, fromSystemError, type ErrorCodeValue } from '../errors.js';
import { outputNamesFor } from './output-names.js';
import { prefixRows } from './row-prefix.js';
import { largestFirst, runSources, threadsPerJob, type SourceError, type SourceOutcome } from './run-sources.js';
import { threadBudget } from '../../io/thread-budget.js';
import { writeAllTo } from '../../io/write-all.js';
import type { MftIndexSummary } from '../ntfs/index.js';
import type { LaneJob, LaneReply } from './fleet-lane.js';

export interface FleetRequest {
  sources: string[];
  format: 'jsonl' | 'csv' | 'bodyfile' | 'parquet' | 'none';
  outDir: string | undefined;
  out: string | undefined;
  /** Rows go to stdout (no --json). */
  toStdout: boolean;
  jobs: number;
  /** Options passed on to every source's pipeline. */
  pipeline: Pick<LaneJob, 'streams' | 'deleted' | 'strict' | 'skipUnused' | 'stats' | 'mode' | 'chunkSize' | 'depth'>;
  partition: number | undefined;
  /** --workers as the user gave it: capped by each pipeline's share of the budget. */
  workers: number | undefined;
  signal: AbortSignal;
}

export interface FleetSourceSummary {
  source: string;
  ok: boolean;
  /** The source's output file (with --out-dir). */
  output?: string;
  /** Set when the output name was changed because another source had it. */
  renamed?: boolean;
  error?: SourceError;
  summary?: MftIndexSummary;
}

export interface FleetSummary {
  sources: FleetSourceSummary[];
  failed: number;
  jobs: number;
  threadsPerSource: number;
  records: number;
  rows: number;
  seconds: number;
  /** All sources' records over the whole run's wall time. */
  recordsPerSecond: number;
  /**
   * CPU seconds of the whole run (user + system, every thread): this process's from
   * the start of the run, and each lane's from its own start (Node's start and module
   * loading included) to its last answer. The sources' own cpuSeconds leave the lanes'
   * start out; this does not. A lane that crashed counts up to its last answer.
   */
  cpuSeconds: number;
  /** The largest peak memory of a pipeline's process (a lane's: its sources one after another), and of this coordinating process. */
  peakRssMiB: number;
  coordinatorPeakRssMiB: number;
}

const LANE = fileURLToPath(new URL('./fleet-lane.js', import.meta.url));
const EXTENSIONS: Record<string, string> = { jsonl: 'jsonl', csv: 'csv', bodyfile: 'body', parquet: 'parquet' };

/**
 * A lane's environment: the parent's, with its share of the thread budget, and without
 * NODE_EXTRA_CA_CERTS. With that variable set, Node 20 builds the whole root
 * certificate store as the process starts (~420M of `node -e 0`'s ~505M
 * instructions, 50-60 ms of CPU); a lane reads local files and never opens a TLS
 * connection, so it would pay that on every start for nothing.
 */
export function laneEnv(threads: number, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const { NODE_EXTRA_CA_CERTS: _unused, ...rest } = env;
  return { ...rest, DISKKIT_THREADS: String(threads) };
}

/**
 * Node's flags for a lane when `lanesAtOnce` lanes run together on `cores` cores.
 * When the lanes take every core, V8 compiles and collects garbage on each lane's own
 * thread (--single-threaded): its helper threads would only compete with the other
 * lanes for the cores, and optimizing off the main thread cost more CPU in all (the
 * main thread meanwhile runs slower code, and some functions were compiled twice): a
 * lane indexing two 250,000-record dumps ran 3.99G instructions so against 4.61G
 * (cachegrind), 0.9-1.16 CPU s against 1.2-1.36 (runs taking turns on a loaded 2-core
 * machine). With a core to spare (one lane on two cores) the helper threads work
 * there, beside the lane's thread rather than in its way: Node's defaults.
 */
export function laneExecArgv(lanesAtOnce: number, cores = availableParallelism()): string[] {
  return lanesAtOnce >= cores ? ['--single-threaded'] : [];
}

/** A lane process (fleet-lane.ts): indexes one source at a time, as long as it lives. */
class Lane {
  private readonly child: ChildProcess;
  private stderr = '';
  private waiting: { resolve: (summary: MftIndexSummary) => void; reject: (error: unknown) => void; source: string } | null = null;
  /** Set when the process has ended: a new lane is started for the next source. */
  exited = false;
  /** The lane's CPU seconds (all its threads, from its start) as of its last answer. */
  cpuSeconds = 0;

  constructor(threads: number, execArgv: string[], private readonly signal: AbortSignal) {
    this.child = fork(LANE, [], { execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: laneEnv(threads) });
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => (this.stderr = (this.stderr + s).slice(-8192)));
    this.child.on('message', (reply: LaneReply) => {
      const waiting = this.waiting;
      this.waiting = null;
      if (typeof reply.laneCpuSeconds === 'number') this.cpuSeconds = reply.laneCpuSeconds;
      if (!waiting) return;
      if (reply.ok) waiting.resolve(reply.summary);
      else waiting.reject(new DiskkitError(reply.error.code as ErrorCodeValue, reply.error.message, { context: { image: waiting.source, ...reply.error.context } }));
    });
    this.child.on('error', (error) => this.fail(fromSystemError(error, 'the indexing process', 'start')));
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      const line = this.stderr.split('\n').find((l) => l.startsWith('diskkit: '));
      const codeName = code === 130 || signal === 'SIGINT' ? ErrorCode.CANCELLED : ErrorCode.WORKER;
      this.fail(new DiskkitError(codeName, line?.replace(/^diskkit: /, '') ?? `the indexing process ended (${signal ?? `exit code ${code}`})`));
    });
  }

  private fail(error: DiskkitError): void {
    const waiting = this.waiting;
    this.waiting = null;
    if (waiting) waiting.reject(new DiskkitError(error.code, error.message, { context: { image: waiting.source } }));
  }

  /** Runs one source's pipeline; resolves with its summary or rejects with its error. */
  async run(job: LaneJob): Promise<MftIndexSummary> {
    // Ctrl-C: the pipeline stops, deletes its temporary output, answers and exits 130.
    const onAbort = (): void => void this.child.kill('SIGINT');
    this.signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await new Promise<MftIndexSummary>((resolve, reject) => {
        this.waiting = { resolve, reject, source: job.source };
        if (this.exited) this.fail(new DiskkitError(ErrorCode.WORKER, 'the indexing process ended'));
        else this.child.send(job, (error) => error && this.fail(new DiskkitError(ErrorCode.WORKER, `cannot reach the indexing process: ${error.message}`)));
      });
    } finally {
      this.signal.removeEventListener('abort', onAbort);
    }
  }

  /** No more sources: the lane exits when its channel closes. */
  close(): void {
    if (!this.exited && this.child.connected) this.child.disconnect();
  }
}

/** Copies each finished source's rows, in the sources' order, with the source in front of each row. */
class CombinedStream {
  private nextToCopy = 0;
  private headerWritten = false;
  private copying: Promise<void> = Promise.resolve();
  private readonly done: (boolean | undefined)[];
  /** The first write error (e.g. EPIPE: the reader went away); copying stops there. */
  error: unknown = null;

  constructor(
    private readonly fd: number,
    private readonly name: string,
    private readonly format: 'jsonl' | 'csv' | 'bodyfile',
    private readonly sources: string[],
    private readonly temps: string[],
    private readonly onError: (error: unknown) => void,
  ) {
    this.done = new Array(sources.length);
  }

  /** Source `i` finished (ok or not): copy every source that is now next in line. */
  finished(i: number, ok: boolean): Promise<void> {
    this.done[i] = ok;
    this.copying = this.copying.then(async () => {
      while (this.nextToCopy < this.sources.length && this.done[this.nextToCopy] !== undefined) {
        const k = this.nextToCopy++;
        try {
          if (this.done[k] && this.error === null) await this.copy(k);
        } catch (error) {
          this.error = error;
          this.onError(error);
        }
        rmSync(this.temps[k]!, { force: true });
      }
    });
    return this.copying;
  }

  private async copy(k: number): Promise<void> {
    const prefixer = prefixRows(this.format, this.sources[k]!, !this.headerWritten);
    this.headerWritten = true;
    for await (const chunk of createReadStream(this.temps[k]!, { highWaterMark: 1 << 20 })) {
      // One write per chunk read: the prefixer's pieces (a source prefix and a row, for
      // every row) written one by one were two write calls per row.
      const pieces = prefixer.push(chunk as Buffer);
      if (pieces.length > 0) writeAllTo(this.fd, pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces), this.name, 'write');
    }
  }

  flushed(): Promise<void> {
    return this.copying;
  }
}

export async function runFleetIndex(request: FleetRequest): Promise<FleetSummary> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const { sources } = request;
  const threads = threadsPerJob(threadBudget(), request.jobs, sources.length);
  const execArgv = laneExecArgv(Math.min(request.jobs, sources.length));
  const extension = EXTENSIONS[request.format] ?? 'out';
  const names = request.outDir ? outputNamesFor(sources, extension) : null;
  if (request.outDir) {
    try {
      mkdirSync(request.outDir, { recursive: true });
      if (!statSync(request.outDir).isDirectory()) throw new Error('not a directory');
    } catch (error) {
      throw new DiskkitError(ErrorCode.IO, `cannot use --out-dir: ${(error as Error).message}`, { context: { image: request.outDir } });
    }
  }
  const combined = !request.outDir && request.format !== 'none' && request.format !== 'parquet' && (request.toStdout || request.out !== undefined);
  const tempDir = combined ? mkdtempSync(join(tmpdir(), 'diskkit-fleet-')) : null;
  const temps = sources.map((_, i) => (tempDir ? join(tempDir, `${i}.${extension}`) : ''));
  // Stops the pipelines on Ctrl-C, or when the combined output cannot be written (a reader that went away).
  const stop = new AbortController();
  const onInterrupt = (): void => stop.abort();
  request.signal.addEventListener('abort', onInterrupt, { once: true });
  const lanes: (Lane | undefined)[] = [];
  /** Every lane started, those replaced after a crash included (for the run's CPU time). */
  const started: Lane[] = [];
  let stream: CombinedStream | null = null;
  let outFd = 1;
  let outTemp: string | null = null;
  try {
    if (combined) {
      if (request.out !== undefined) {
        // The combined file appears whole or not at all, like every --out.
        outTemp = `${request.out}.diskkit-${process.pid}.tmp`;
        outFd = openSync(outTemp, 'wx');
      }
      stream = new CombinedStream(outFd, request.out ?? 'stdout', request.format as 'jsonl' | 'csv' | 'bodyfile', sources, temps, () => stop.abort());
    }
    // Where source i's pipeline writes: its file in --out-dir, its temporary part of the combined stream, or (one source, Parquet) --out itself.
    const outputOf = (i: number): string | null =>
      names ? join(request.outDir!, names[i]!.file) : combined ? temps[i]! : request.format === 'parquet' && request.out !== undefined ? request.out : null;
    const pending: Promise<void>[] = [];
    const outcomes: SourceOutcome<MftIndexSummary>[] = await runSources(sources, {
      jobs: request.jobs,
      signal: stop.signal,
      // The combined stream copies a source's rows once every source before it is done:
      // handed out in the sources' order, the copying overlaps the indexing of the rest.
      order: stream ? undefined : largestFirst(sources.map(sizeOf)),
      onDone: (outcome, i) => {
        if (stream) pending.push(stream.finished(i, outcome.ok));
      },
    }, (source, i, laneNumber) => {
      let lane = lanes[laneNumber];
      if (lane === undefined || lane.exited) {
        lanes[laneNumber] = lane = new Lane(threads, execArgv, stop.signal);
        started.push(lane);
      }
      return lane.run({ ...request.pipeline, source, out: outputOf(i), format: request.format, workers: Math.min(request.workers ?? threads, threads), partition: request.partition });
    });
    await Promise.all(pending);
    await stream?.flushed();
    if (stream?.error) throw stream.error;
    if (request.signal.aborted) throw new DiskkitError(ErrorCode.CANCELLED, 'interrupted');
    if (outTemp !== null) {
      closeSync(outFd);
      outFd = -1;
      const { renameSync } = await import('node:fs');
      renameSync(outTemp, request.out!);
      outTemp = null;
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const list: FleetSourceSummary[] = outcomes.map((o, i) => ({
      source: o.source,
      ok: o.ok,
      ...(names ? { output: join(request.outDir!, names[i]!.file), ...(names[i]!.renamed ? { renamed: true } : {}) } : {}),
      ...(o.ok ? { summary: o.value } : { error: o.error }),
    }));
    const ok = outcomes.filter((o): o is Extract<SourceOutcome<MftIndexSummary>, { ok: true }> => o.ok).map((o) => o.value);
    const records = ok.reduce((n, s) => n + s.records, 0);
    return {
      sources: list,
      failed: outcomes.length - ok.length,
      jobs: request.jobs,
      threadsPerSource: threads,
      records,
      rows: ok.reduce((n, s) => n + s.rows, 0),
      seconds,
      recordsPerSecond: records / seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6 + started.reduce((sum, lane) => sum + lane.cpuSeconds, 0),
      peakRssMiB: Math.max(0, ...ok.map((s) => s.peakRssMiB)),
      coordinatorPeakRssMiB: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    for (const lane of lanes) lane?.close();
    request.signal.removeEventListener('abort', onInterrupt);
    if (outTemp !== null) {
      if (outFd >= 0) closeSync(outFd);
      rmSync(outTemp, { force: true });
    }
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  }
}

/**
 * A source's size in bytes, for the order sources are handed out in: a block device's
 * size is not in its stat, so it counts as larger than any file (a whole disk usually
 * is); a source that cannot be stat'ed counts as 0 (it fails at once anyway).
 */
function sizeOf(source: string): number {
  try {
    const stat = statSync(source);
    return stat.isFile() ? stat.size : Number.MAX_SAFE_INTEGER;
  } catch {
    return 0;
  }
}
