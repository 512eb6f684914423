/**
 * One writer at a time (docs/cartridge-format.md §15): a writable Cartridge Volume holds
 * `IMAGE.lock`, made with O_EXCL and holding the writer's pid. Two writers starting from
 * the same generation would both write meta page g + 1 and pages the other also chose.
 * A lock whose process is gone (SIGKILL, power cut) is stale and taken over: the image
 * needs no repair, since an uncommitted transaction is invisible (§4).
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { DiskkitError, ErrorCode, fromSystemError } from '../errors.js';
import { processAlive } from '../process-alive.js';

function holderOf(lock: string): number | null {
  try {
    const pid = Number(readFileSync(lock, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Takes the writer lock of `imagePath`; returns its release (idempotent). E_BUSY while another live process holds it. */
export function acquireWriterLock(imagePath: string): () => void {
  const lock = `${imagePath}.lock`;
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(lock, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw fromSystemError(error, lock, 'create the writer lock');
      const pid = holderOf(lock);
      if (pid !== null && pid !== process.pid && processAlive(pid)) {
        throw new DiskkitError(ErrorCode.BUSY, `diskkit process ${pid} is writing this image (lock ${lock})`, {
          context: { image: imagePath, pid },
          hint: 'wait for it to finish; if no diskkit process is running, delete the lock file',
        });
      }
      try {
        unlinkSync(lock);
      } catch {
        // another process took it over first: the retry says so
      }
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      try {
        unlinkSync(lock);
      } catch {
        // already gone
      }
    };
  }
}
