/**
 * Rotational-disk detection for `auto` (issue 13) against a fake sysfs tree laid
 * out as Linux lays it out: /sys/dev/block/MAJ:MIN is a link to the device's
 * directory; a whole disk has queue/rotational, a partition is a subdirectory of
 * its disk and has none.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceNumbers, onRotationalDisk, rotationalFlag } from '../../src/io/rotational.js';
import { MemoryBlockSource } from '../../src/io/block-source.js';

function fakeSysfs(): string {
  const root = mkdtempSync(join(tmpdir(), 'diskkit-sysfs-'));
  const disks = join(root, 'devices', 'pci0', 'block');
  for (const [disk, rotational] of [['sda', '1'], ['nvme0n1', '0']] as const) {
    mkdirSync(join(disks, disk, 'queue'), { recursive: true });
    writeFileSync(join(disks, disk, 'queue', 'rotational'), rotational + '\n');
  }
  mkdirSync(join(disks, 'sda', 'sda1'));
  mkdirSync(join(root, 'dev', 'block'), { recursive: true });
  symlinkSync(join(disks, 'sda'), join(root, 'dev', 'block', '8:0'));
  symlinkSync(join(disks, 'sda', 'sda1'), join(root, 'dev', 'block', '8:1'));
  symlinkSync(join(disks, 'nvme0n1'), join(root, 'dev', 'block', '259:0'));
  return root;
}

describe('rotational disks', () => {
  it('reads the flag of a disk, of a partition (from its disk), and says null when sysfs does not know the device', () => {
    const sys = fakeSysfs();
    expect(rotationalFlag(8, 0, sys)).toBe(true);
    expect(rotationalFlag(8, 1, sys)).toBe(true);
    expect(rotationalFlag(259, 0, sys)).toBe(false);
    expect(rotationalFlag(7, 3, sys)).toBeNull();
  });

  it('splits dev_t as glibc does', () => {
    expect(deviceNumbers(0x0801)).toEqual({ major: 8, minor: 1 });
    expect(deviceNumbers(0x10300)).toEqual({ major: 259, minor: 0 });
    expect(deviceNumbers((0x123 << 20) | (0x45 << 8) | 0x67)).toEqual({ major: 0x45, minor: 0x12367 });
  });

  it('a regular file or an in-memory source is never on a rotational disk', () => {
    expect(onRotationalDisk(new MemoryBlockSource(new Uint8Array(4096)), fakeSysfs())).toBe(false);
  });
});
