/**
 * Timestamps for what the write commands create. Normally they come from the host
 * file (mtime, atime, birth time) or the clock; with --invariant or SOURCE_DATE_EPOCH
 * set they are made reproducible: access and creation times equal the modification
 * time, and every time is clamped to SOURCE_DATE_EPOCH (reproducible-builds.org's
 * convention; without it, --invariant uses 1980-01-01, the FAT epoch, for "now").
 */
import type { Stats } from 'node:fs';

export interface EntryTimes {
  mtime: Date;
  atime: Date;
  ctime: Date;
}

export interface TimePolicy {
  readonly invariant: boolean;
  /** Times for a new entry copied from a host file. */
  fromHost(st: Stats): EntryTimes;
  /** fromHost for a file's times as milliseconds (the host reader's records): the same Dates Node's Stats would give. */
  fromHostMs(mtimeMs: number, atimeMs: number, birthtimeMs: number): EntryTimes;
  /** Times for an entry the command makes itself (mkdir, parents). */
  now(): Date;
  /** Clamps a time taken from elsewhere (an image entry being copied). */
  clamp(when: Date | null): Date;
}

export function timePolicy(invariantFlag: boolean): TimePolicy {
  const sde = process.env.SOURCE_DATE_EPOCH;
  const epoch = sde !== undefined && /^\d+$/.test(sde.trim()) ? new Date(Number(sde.trim()) * 1000) : null;
  const invariant = invariantFlag || epoch !== null;
  // FAT time is local wall-clock time; 1980-01-01 local is the earliest it can hold.
  const fixedNow = epoch ?? new Date(1980, 0, 1, 0, 0, 0);
  const clamp = (when: Date | null): Date => {
    const t = when ?? (invariant ? fixedNow : new Date());
    return epoch && t.getTime() > epoch.getTime() ? epoch : t;
  };
  // Truncated to the millisecond, as the kernel truncates a time to a coarser file system and
  // mcopy -m takes st_mtime: rounding (as Node's Stats Dates do) turned 21.9996 s into a FAT
  // 22 s (mcopy: 20 s) and a Cartridge file at 22.9996 s came back out at 23 s.
  const fromHostMs = (mtimeMs: number, atimeMs: number, birthtimeMs: number): EntryTimes => {
    const mtime = new Date(Math.floor(mtimeMs));
    if (invariant) {
      const m = clamp(mtime);
      return { mtime: m, atime: m, ctime: m };
    }
    return { mtime, atime: new Date(Math.floor(atimeMs)), ctime: birthtimeMs > 0 ? new Date(Math.floor(birthtimeMs)) : mtime };
  };
  return {
    invariant,
    fromHost: (st: Stats): EntryTimes => fromHostMs(st.mtimeMs, st.atimeMs, st.birthtimeMs),
    fromHostMs,
    now: () => (invariant ? fixedNow : new Date()),
    clamp,
  };
}
