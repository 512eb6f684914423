/**
 * The conditions a bench report states: cache state and how it was reached, the
 * machine (CPU, cores, Node, libuv pool size) and the I/O settings.
 */
import { cpus, availableParallelism, platform, release } from 'node:os';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

export interface MachineConditions {
  node: string;
  cpu: string;
  cores: number;
  platform: string;
  /** libuv's pool caps concurrent async reads (prefetch/pipelined); default 4. */
  uvThreadpoolSize: string;
}

export function machineConditions(): MachineConditions {
  return {
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    platform: `${platform()} ${release()}`,
    uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE ?? '4 (default)',
  };
}

export interface CacheDrop {
  dropped: boolean;
  /** What was done, in words, for the report. */
  action: string;
}

/**
 * Empties the page cache for `path` as far as the OS allows. Node has no
 * posix_fadvise, so GNU dd's `iflag=nocache count=0` asks for POSIX_FADV_DONTNEED on
 * the whole image (only this file: other processes' caches stay). Failing that, as
 * root, `sync` and write 1 to /proc/sys/vm/drop_caches (the whole page cache). When
 * neither works the runs are cached and the report says so.
 */
export function dropCache(path: string): CacheDrop {
  try {
    execFileSync('dd', [`if=${path}`, 'iflag=nocache', 'count=0', 'status=none'], { stdio: 'ignore' });
    return { dropped: true, action: 'dd if=IMAGE iflag=nocache count=0 before each run (POSIX_FADV_DONTNEED on the image)' };
  } catch {
    // no GNU dd
  }
  try {
    execFileSync('sync', [], { stdio: 'ignore' });
    writeFileSync('/proc/sys/vm/drop_caches', '1');
    return { dropped: true, action: 'sync; echo 1 > /proc/sys/vm/drop_caches before each run (system-wide page cache dropped)' };
  } catch {
    return { dropped: false, action: 'could not drop the page cache here (no GNU dd, no /proc/sys/vm/drop_caches access): runs are cached' };
  }
}
