/**
 * How many threads this process may keep busy: the cores, or fewer when the
 * process is one of several sharing them. A many-source `mft index` gives each
 * source's process its share in DISKKIT_THREADS (src/engine/fleet/fleet-index.ts), so
 * N sources never start N × cores threads; a user may set it too.
 */
import { availableParallelism } from 'node:os';

/** availableParallelism() asks the kernel for the affinity mask each time; cp -r scans once per file. */
let coresSeen = 0;

export function threadBudget(): number {
  const cores = (coresSeen ||= Math.max(1, availableParallelism()));
  const value = process.env.DISKKIT_THREADS;
  if (value === undefined || !/^[1-9]\d{0,3}$/.test(value)) return cores;
  return Math.min(cores, Number(value));
}
