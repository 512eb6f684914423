#!/usr/bin/env node
// One child of scripts/fuzz.js running several fuzz cases in turn, so that a case
// costs one command rather than one Node start-up. It runs under the same heap limit
// (NODE_OPTIONS) as a one-case child; the parent watches this process's CPU time per
// case (the CPU limit) and judges each case as it does a one-case child. Anything
// unusual — a rejected main(), an uncaught error, a signal, output on the real stderr,
// work still pending after a command returned — ends or spoils the batch, and the
// parent then reruns the affected cases one per child: the one-case run is the verdict.
//
// Protocol: argv[2] is a JSON file holding [{ i, argv }]; on fd 3 this process writes
// one JSON line per event: { start: i }, then { done: i, code, stderr, hwmKiB }.
import { readFileSync, writeFileSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const { main } = await import('../dist/cli.js');
const bin = fileURLToPath(new URL('../bin/diskkit.js', import.meta.url));
const cases = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const send = (message) => writeSync(3, JSON.stringify(message) + '\n');

// Listeners a command adds to stdout ('error', for EPIPE) are removed after it, as its
// process would have ended; without this the 11th case would print Node's
// MaxListenersExceededWarning.
const stdoutListeners = () => new Set(process.stdout.listeners('error'));
const realStderrWrite = process.stderr.write.bind(process.stderr);
const baseline = process.getActiveResourcesInfo().length;

/** Peak RSS since the last reset (Linux: writing 5 to clear_refs resets VmHWM). */
function resetPeak() {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // not Linux: the peak then spans the batch, which only overstates it
  }
}
function peakKiB() {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
  } catch {
    return null;
  }
}

/** Waits until only the resources present before the command are left (its writes and timers done). */
async function settle() {
  for (let n = 0; n < 400; n++) {
    await new Promise((resolve) => setImmediate(resolve));
    if (process.getActiveResourcesInfo().length <= baseline) return true;
    if (n > 20) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return false;
}

// TEST ONLY (test/fuzz-cli.test.ts): die by SIGABRT when case N starts, to show the parent reruns the rest alone.
const abortAt = process.env.DISKKIT_FUZZ_ABORT_AT === undefined ? null : Number(process.env.DISKKIT_FUZZ_ABORT_AT);

for (const c of cases) {
  send({ start: c.i });
  if (c.i === abortAt) process.abort();
  const before = stdoutListeners();
  let stderr = '';
  process.stderr.write = (chunk, encoding, callback) => {
    if (stderr.length < 200_000) stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const done = typeof encoding === 'function' ? encoding : callback;
    if (done) process.nextTick(done);
    return true;
  };
  process.exitCode = undefined;
  resetPeak();
  try {
    await main([process.execPath, bin, ...c.argv]);
  } catch {
    // An error escaping main() is a stack trace in a real run: stop, the parent reruns the case alone.
    process.stderr.write = realStderrWrite;
    process.exit(70);
  }
  const settled = await settle();
  process.stderr.write = realStderrWrite;
  if (!settled) process.exit(71);
  for (const listener of process.stdout.listeners('error')) if (!before.has(listener)) process.stdout.off('error', listener);
  send({ done: c.i, code: Number(process.exitCode ?? 0), stderr, hwmKiB: peakKiB() });
}
process.exitCode = 0;
