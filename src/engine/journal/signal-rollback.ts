/**
 * Ctrl-C, SIGTERM and SIGHUP during a write: the journals with uncommitted changes in
 * this process are rolled back, then the signal is raised again with its default
 * action. Also at exit: a command that ends with a transaction still open (an uncaught
 * error) leaves the image as it was.
 */

/** Starts watching a journal that is about to hold uncommitted changes. */
export function watchJournal(journal: { rollback(): void }): void {
  active.add(journal);
  updateSignalHandlers();
}

/** The journal committed or rolled back. */
export function unwatchJournal(journal: { rollback(): void }): void {
  active.delete(journal);
}

/** Journals with uncommitted changes in this process: rolled back on Ctrl-C, SIGTERM, SIGHUP and at exit. */
const active = new Set<{ rollback(): void }>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type HandledSignal = (typeof SIGNALS)[number];
const handlers = new Map<HandledSignal, () => void>();
let exitHookInstalled = false;
let signalSeen = false;

function rollBackAll(): void {
  for (const journal of [...active]) {
    try {
      journal.rollback();
    } catch {
      // the next command that opens the image rolls back from the journal file
    }
  }
}

/**
 * A signal during a write: the command's stack is suspended between two writes, so the
 * image is rolled back here, then the signal is raised again with its default action
 * (the shell sees 130 for Ctrl-C), as a C program that cleans up on a signal would.
 * When another listener is left (a scan's Ctrl-C handler), it decides how to stop;
 * any write after the rollback fails with E_CANCELLED.
 */
function onSignal(signal: HandledSignal): void {
  signalSeen = true;
  rollBackAll();
  for (const [sig, handler] of handlers) process.off(sig, handler);
  handlers.clear();
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

/**
 * Installed with the first journal and kept: Ctrl-C after a commit (fsck's re-check,
 * printing) still stops the command, the image being final by then.
 */
function updateSignalHandlers(): void {
  if (active.size === 0 || handlers.size > 0 || signalSeen) return;
  for (const sig of SIGNALS) {
    const handler = (): void => onSignal(sig);
    handlers.set(sig, handler);
    process.on(sig, handler);
  }
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // A command that exits with a transaction still open (an uncaught error) leaves the image as it was.
    process.on('exit', rollBackAll);
  }
}
