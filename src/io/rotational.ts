/**
 * Whether a block source lives on a spinning disk, from Linux's sysfs
 * (`/sys/dev/block/MAJOR:MINOR/queue/rotational`; a partition has no queue of its
 * own and uses its disk's). `auto` reads such a disk with one sequential reader and
 * parses beside it: scattered reads from several threads make a spinning disk seek.
 * Anything unknown (not Linux, not a block device, no sysfs) counts as not rotational.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BlockSource } from './block-source.js';

/** Linux's dev_t split (glibc's gnu_dev_major / gnu_dev_minor for the 32-bit values stat gives). */
export function deviceNumbers(rdev: number): { major: number; minor: number } {
  return { major: ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff), minor: (rdev & 0xff) | ((rdev >>> 12) & ~0xff) };
}

/** The rotational flag of device MAJOR:MINOR under `sysRoot`, or null when sysfs does not say. */
export function rotationalFlag(major: number, minor: number, sysRoot = '/sys'): boolean | null {
  let entry: string;
  try {
    entry = realpathSync(join(sysRoot, 'dev', 'block', `${major}:${minor}`));
  } catch {
    return null;
  }
  for (const dir of [entry, dirname(entry)]) {
    try {
      return readFileSync(join(dir, 'queue', 'rotational'), 'utf8').trim() === '1';
    } catch {
      // a partition: its disk's queue is one level up
    }
  }
  return null;
}

/** True when `source` (or the disk image a partition slice belongs to) is a block device on a rotational disk. */
export function onRotationalDisk(source: BlockSource, sysRoot = '/sys'): boolean {
  let s: BlockSource = source;
  while (s.kind === 'slice') s = (s as BlockSource & { parent: BlockSource }).parent;
  if (s.kind !== 'block-device') return false;
  try {
    const { major, minor } = deviceNumbers(statSync(s.name).rdev);
    return rotationalFlag(major, minor, sysRoot) === true;
  } catch {
    return false;
  }
}
