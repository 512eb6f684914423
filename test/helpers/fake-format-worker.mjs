/**
 * Preloaded into the CLI under test (`node --import THIS bin/diskkit.js ...`):
 * replaces the format worker of src/engine/ntfs/format-parallel.ts with a failing
 * or stalling one, chosen by FAKE_FORMAT_WORKER, so tests can show what the main
 * thread does then. Other workers (the parallel scan's) are left alone.
 *
 * - `throw-on-load`: the worker's module throws while loading.
 * - `throw-on-setup`: it throws when it receives its setup.
 * - `exit-on-setup`: it exits with code 7 when it receives its setup.
 * - `stall`: it claims block 0 of the shared counter and never writes it; it then
 *   creates the file FAKE_FORMAT_WORKER_MARKER, so the test knows the main thread
 *   is formatting and will wait for that block's turn.
 */
import workerThreads from 'node:worker_threads';
import { syncBuiltinESMExports } from 'node:module';

const BODIES = {
  'throw-on-load': `throw new Error('injected load failure');`,
  'throw-on-setup': `require('node:worker_threads').parentPort.once('message', () => { throw new Error('injected setup failure'); });`,
  'exit-on-setup': `require('node:worker_threads').parentPort.once('message', () => process.exit(7));`,
  stall: `require('node:worker_threads').parentPort.once('message', (setup) => {
    Atomics.add(setup.control, 0, 1); // FormatSlot.NEXT: block 0 is now this thread's
    require('node:fs').writeFileSync(process.env.FAKE_FORMAT_WORKER_MARKER, 'claimed block 0');
    setInterval(() => {}, 1000);
  });`,
};

const body = BODIES[process.env.FAKE_FORMAT_WORKER ?? ''];
if (body === undefined) throw new Error(`FAKE_FORMAT_WORKER must be one of ${Object.keys(BODIES).join(', ')}`);

const RealWorker = workerThreads.Worker;
workerThreads.Worker = class extends RealWorker {
  constructor(module, options) {
    if (String(module).endsWith('/format-worker.js')) super(body, { eval: true });
    else super(module, options);
  }
};
// Named imports of node:worker_threads (`import { Worker }`) see the replacement too.
syncBuiltinESMExports();
