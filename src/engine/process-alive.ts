/**
 * Whether process `pid` is still running: a lock or journal left by a process that is
 * gone (SIGKILL, power cut) is stale and may be taken over. EPERM means it runs under
 * another user, which still counts as alive.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
