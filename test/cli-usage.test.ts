/**
 * Usage errors through the built CLI: every one prints a `diskkit: …` line on stderr
 * and exits 2 (16 under fsck, as fsck(8) does), whether commander or a command found it.
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { diskkit } from './helpers/cli.js';

const FAT12 = fileURLToPath(new URL('../fixtures/fat12.img', import.meta.url));

describe('usage errors', () => {
  it.each(['0', 'abc', '-1', '1.5'])('--partition %s is refused with a diskkit: line and exit 2 (16 under fsck)', async (value) => {
    const ls = await diskkit(['--partition', value, 'ls', FAT12]);
    expect(ls.exitCode).toBe(2);
    expect(ls.stdout).toBe('');
    expect(ls.stderr.split('\n')[0]).toMatch(new RegExp(`^diskkit: .*--partition.*'${value.replace('.', '\\.')}'`));
    const fsck = await diskkit(['fsck', `--partition=${value}`, FAT12]);
    expect(fsck.exitCode).toBe(16);
    expect(fsck.stderr.split('\n')[0]).toMatch(/^diskkit: .*--partition/);
  });

  it('unknown options and commands print a diskkit: line', async () => {
    const option = await diskkit(['ls', '--bogus', FAT12]);
    expect([option.exitCode, option.stderr.split('\n')[0]]).toEqual([2, "diskkit: unknown option '--bogus'"]);
    const command = await diskkit(['nosuch']);
    expect([command.exitCode, command.stderr.split('\n')[0]]).toEqual([2, "diskkit: unknown command 'nosuch'"]);
    const fsck = await diskkit(['fsck']);
    expect([fsck.exitCode, fsck.stderr.split('\n')[0]]).toEqual([16, "diskkit: missing required argument 'image'"]);
  });
});

describe('image arguments that are not IMAGE:/PATH', () => {
  it('cp into an image that does not exist says so, naming it', async () => {
    const r = await diskkit(['cp', FAT12, 'no-such-image.img:/']);
    expect([r.exitCode, r.stderr.trim()]).toEqual([1, 'diskkit: no-such-image.img: no such image file']);
  });

  it('IMAGE:path without the leading slash suggests IMAGE:/path', async () => {
    for (const args of [['cat', `${FAT12}:boot/x`], ['rm', `${FAT12}:boot/x`], ['cp', `${FAT12}:boot/x`, 'out']]) {
      const r = await diskkit(args);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(`diskkit: hint: did you mean ${FAT12}:/boot/x?`);
      expect(r.stderr).not.toContain('cmdline');
    }
  });

  it('an error line does not repeat the image as its path', async () => {
    const r = await diskkit(['ls', 'nope.img']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim()).toMatch(/^diskkit: nope\.img: [^()]*$/);
  });
});

describe('an NTFS $MFT dump given to a FAT command', () => {
  const MFT = fileURLToPath(new URL('../fixtures/ntfs/small.mft', import.meta.url));
  it.each([['ls', MFT], ['info', MFT], ['cat', `${MFT}:/x.txt`]])('%s recognises it and points to mft index', async (command, arg) => {
    const r = await diskkit([command, arg]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`diskkit: ${MFT}: this is an NTFS $MFT dump`);
    expect(r.stderr).toContain(`diskkit: hint: index it with: diskkit mft index ${MFT}`);
    expect(r.stderr).not.toMatch(/boot sector|BPB/i);
  });
});
