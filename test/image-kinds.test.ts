/**
 * An image argument that is neither a regular file nor a block device: a FIFO nobody
 * writes to, a character device. Opening a FIFO for reading waits for a writer, so
 * a command that simply opened it would hang for ever; each command must end by itself
 * (execa's timeout kills a hung one, and the test then fails) with the one-line error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diskkit } from './helpers/cli.js';

let dir = '';
let fifo = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'diskkit-image-kinds-'));
  fifo = join(dir, 'pipe.img');
  execFileSync('mkfifo', [fifo]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const commands: [string, (image: string) => string[]][] = [
  ['ls', (image) => ['ls', image]],
  ['ls -R --json', (image) => ['--json', 'ls', '-R', image]],
  ['info', (image) => ['info', image]],
  ['cat', (image) => ['cat', `${image}:/a.txt`]],
  ['cp out', (image) => ['cp', `${image}:/a.txt`, join(dir, 'out.txt')]],
  ['mkdir', (image) => ['mkdir', `${image}:/d`]],
  ['fsck', (image) => ['fsck', '-n', image]],
  ['bench', (image) => ['bench', image, '--runs', '1']],
];

describe('an image that is a FIFO or a character device', () => {
  it.each(commands)('%s on a FIFO ends at once with a one-line error', async (_name, argsOf) => {
    const r = await diskkit(argsOf(fifo), { timeout: 20_000 });
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toBe(`diskkit: ${fifo}: is a FIFO, not an image (diskkit reads image files and block devices)`);
  });

  it.each(commands)('%s on /dev/null says it is a character device', async (_name, argsOf) => {
    const r = await diskkit(argsOf('/dev/null'), { timeout: 20_000 });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toBe('diskkit: /dev/null: is a character device, not an image (diskkit reads image files and block devices)');
  });

  it('mkfs on a FIFO refuses it without waiting for a reader', async () => {
    const r = await diskkit(['mkfs', fifo, '--size', '10M'], { timeout: 20_000 });
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^diskkit: ${fifo}: .*(FIFO|neither a regular file nor a block device)`));
    expect(r.stderr.split('\n')).toHaveLength(1);
  });
});

describe('a regular file that is no image', () => {
  // Read commands (fsck excepted: it checks a FAT boot sector whatever it finds, as fsck.fat does).
  const readers = commands.filter(([name]) => name !== 'fsck' && name !== 'bench');

  it.each(readers)('%s on a text file says no known format marks it, not which FAT field is wrong', async (_name, argsOf) => {
    const text = join(dir, 'notes.txt');
    execFileSync('sh', ['-c', `yes 'plain text, no boot sector' | head -c 65536 > '${text}'`]);
    const r = await diskkit(argsOf(text), { timeout: 20_000 });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^diskkit: ${text}: not a .*FAT12/16/32.* image: nothing at its start marks one`));
    expect(r.stderr.split('\n')).toHaveLength(1);
  });

  it('--json names E_UNKNOWN_FORMAT; a file with a boot signature but a broken BPB still gets the FAT field', async () => {
    const zeros = join(dir, 'zeros.img');
    execFileSync('truncate', ['-s', '1M', zeros]);
    const r = await diskkit(['--json', 'ls', zeros]);
    expect(r.exitCode).toBe(1);
    expect(JSON.parse(r.stdout).error.code).toBe('E_UNKNOWN_FORMAT');
    // A jump instruction (and nothing else): a damaged boot sector, so FAT says which field.
    execFileSync('sh', ['-c', `printf '\\353\\074\\220' | dd of='${zeros}' conv=notrunc status=none`]);
    const damaged = await diskkit(['--json', 'ls', zeros]);
    expect(damaged.exitCode).toBe(1);
    expect(JSON.parse(damaged.stdout).error.code).toBe('E_BAD_BPB');
  });
});
