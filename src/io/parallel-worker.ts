/**
 * The worker side of `parallel` mode: reads its chunk into a SharedArrayBuffer slot
 * with positional reads on the shared fd, runs the user module's `process` on the
 * slot in place, and posts the (structured-cloned) result back to the merger.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readPiecesSync } from './read-spans.js';
import type { ChunkJob, SetupMessage, WorkerBoot, WorkerReply, WorkerSetup } from './parallel-protocol.js';

export interface ChunkWorkerModule {
  /** Called once per worker before any chunk, with the `workerData` given to the scan. */
  setup?: (data: unknown) => void | Promise<void>;
  /** Runs per chunk, in a worker; `chunk` is a view of shared memory valid only during the call. */
  process: (chunk: Uint8Array, logicalOffset: number, data: unknown) => unknown;
  /**
   * Optional: the ArrayBuffers of a result to transfer (move) to the main thread
   * instead of cloning them — for compact typed-array results.
   */
  transferList?: (result: unknown) => ArrayBuffer[];
  /**
   * Optional: called on the main thread when a scan that ran the module there ends,
   * so that state the module keeps between chunks (views of the scan's tables) does
   * not outlive the scan in a process that runs another.
   */
  teardown?: () => void;
}

const boot = workerData as WorkerBoot;
const port = parentPort!;
const post = (reply: WorkerReply): void => port.postMessage(reply);

// The module loads at once, even when the setup comes later (a worker started ahead of its scan).
const loading: Promise<ChunkWorkerModule | null> = boot.moduleHref ? loadModule(boot.moduleHref) : Promise.resolve(null);
loading.catch(() => {});
let setup: WorkerSetup = boot.deferred ? (null as unknown as WorkerSetup) : boot.setup;
let module: ChunkWorkerModule | null = null;

async function loadModule(href: string): Promise<ChunkWorkerModule> {
  const loaded = (await import(href)) as ChunkWorkerModule;
  if (typeof loaded.process !== 'function') throw new Error(`${href} exports no process(chunk, logicalOffset, data) function`);
  return loaded;
}

async function start(given: WorkerSetup): Promise<void> {
  setup = given;
  try {
    module = await loading;
    await module?.setup?.(setup.data);
    post({ type: 'ready' });
  } catch (error) {
    post({ type: 'setup-error', message: error instanceof Error ? error.message : String(error) });
  }
}

if (!boot.deferred) void start(boot.setup);

/** The job's pieces into its slot, spans close together on disk read as one (read-spans.ts). */
function readPieces(job: ChunkJob, view: Uint8Array): number {
  return readPiecesSync(setup.fd!, setup.baseOffset, job.pieces, view, (position, length, done) => {
    const error = new Error(`image ends before byte ${position + length} (read stopped at ${position + done})`);
    (error as Error & { diskkitCode: string }).diskkitCode = 'E_SHORT_READ';
    return error;
  });
}

port.on('message', async (message: ChunkJob | SetupMessage) => {
  if ('type' in message) {
    void start(message.setup);
    return;
  }
  // Jobs come only after 'ready', so the setup and module are in place.
  const job = message;
  try {
    const view = new Uint8Array(setup.slots, job.slot * setup.slotSize, job.length);
    const t0 = performance.now();
    const readCalls = job.filled ? 0 : readPieces(job, view);
    const t1 = performance.now();
    let result: unknown = null;
    if (module) {
      result = module.process(view, job.logicalOffset, setup.data);
      if (result instanceof Promise) result = await result;
    }
    const reply: WorkerReply = { type: 'done', index: job.index, result, readCalls, readMs: t1 - t0, processMs: performance.now() - t1 };
    if (module?.transferList && result !== null) port.postMessage(reply, module.transferList(result));
    else post(reply);
  } catch (error) {
    const e = error as { message?: string; code?: unknown; diskkitCode?: string; context?: Record<string, unknown> };
    const code = e?.diskkitCode ?? (typeof e?.code === 'string' && e.code.startsWith('E_') ? e.code : null);
    post({ type: 'error', index: job.index, message: e?.message ?? String(error), code, context: e?.context ?? null });
  }
});
