/**
 * A host file's modification time copied into FAT: the same FAT time mcopy -m writes for
 * it (mtools takes st_mtime, whole seconds, and FAT keeps even seconds). Times just below
 * a second or an even second are the ones a rounding copy would move to the next one.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTools } from './helpers/oracle.js';
import { diskkit } from './helpers/cli.js';

const tools = requireTools('mcopy');

describe.runIf(tools)('host times into FAT, against mcopy -m', () => {
  it.each([21.9996, 22.9996, 23.0004, 24.5])('a file modified %s s past the minute gets the FAT time mcopy -m gives it', async (seconds) => {
    const dir = mkdtempSync(join(tmpdir(), 'diskkit-fat-times-'));
    const image = join(dir, 'f.img');
    expect((await diskkit(['mkfs', image, '--size', '4M'])).exitCode).toBe(0);
    const host = join(dir, 'f.txt');
    writeFileSync(host, 'time\n');
    const t = Date.UTC(2024, 4, 5, 10, 0) / 1000 + seconds;
    utimesSync(host, t, t);
    expect((await diskkit(['cp', host, `${image}:/ours.txt`])).exitCode).toBe(0);
    execFileSync('mcopy', ['-m', '-i', image, host, '::/theirs.txt'], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
    const listed = JSON.parse((await diskkit(['--json', 'ls', image])).stdout) as { name: string; mtime: string }[];
    const mtime = (name: string) => listed.find((e) => e.name === name)?.mtime;
    expect(mtime('theirs.txt')).toBeDefined();
    expect(mtime('ours.txt')).toBe(mtime('theirs.txt'));
  });
});
