/**
 * `cp -r` into FAT reads a walk's files either on the main thread or ahead on the host
 * reader thread (chosen by the core count and the load; DISKKIT_HOST_READER pins it).
 * Both paths must give the same image, messages and exit code, and the image must be
 * what mtools reads back and fsck.fat accepts: here with files of every kind a walk
 * meets (empty, small, past the thread's 256 KiB record limit, a link, a FIFO).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diskkit } from './helpers/cli.js';
import { requireTools } from './helpers/oracle.js';

const HAVE = requireTools('mkfs.fat', 'fsck.fat', 'mtype', 'mdir');
const work = mkdtempSync(join(tmpdir(), 'diskkit-reader-thread-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A host tree: 3 directories of 40 files (sizes from 0 to ~9 KiB), two large files, a link and a FIFO. */
function buildTree(root: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0);
  for (const d of ['alpha', 'beta', 'gamma']) {
    mkdirSync(join(root, d), { recursive: true });
    for (let i = 0; i < 40; i++) {
      const bytes = Buffer.alloc(i === 0 ? 0 : next() % 9000);
      for (let b = 0; b < bytes.length; b++) bytes[b] = next() & 0xff;
      const name = `${d}/file ${String(i).padStart(2, '0')}.bin`;
      writeFileSync(join(root, name), bytes);
      files.set(name, bytes);
    }
  }
  for (const [name, size] of [['big/one.bin', 300 * 1024], ['big/two.bin', 2 * 1024 * 1024 + 17]] as const) {
    mkdirSync(join(root, 'big'), { recursive: true });
    const bytes = Buffer.alloc(size, name.length);
    for (let b = 0; b < size; b += 4093) bytes[b] = next() & 0xff;
    writeFileSync(join(root, name), bytes);
    files.set(name, bytes);
  }
  symlinkSync('alpha/file 01.bin', join(root, 'link-to-file'));
  execFileSync('mkfifo', [join(root, 'alpha', 'a fifo')]);
  return files;
}

describe('cp -r into FAT, files read on the main thread or the reader thread', () => {
  it.runIf(HAVE)('gives the same image and messages either way, and mtools reads every file back', async () => {
    const host = join(work, 'tree');
    const files = buildTree(host);
    const runs = [];
    for (const path of ['main', 'thread']) {
      const img = join(work, `${path}.img`);
      execFileSync('mkfs.fat', ['-C', '-F', '32', '-i', '12345678', img, String(64 * 1024)], { stdio: 'ignore' });
      const r = await diskkit(['cp', '-r', '--invariant', `${host}/.`, `${img}:/`], { env: { DISKKIT_HOST_READER: path, SOURCE_DATE_EPOCH: '1700000000' } });
      runs.push({ img, exitCode: r.exitCode, stderr: r.stderr.replaceAll(img, 'IMG') });
    }
    const [main, thread] = runs as [(typeof runs)[0], (typeof runs)[0]];
    // The FIFO is skipped with a message on both paths (exit 1), the link with a warning.
    expect(main.exitCode).toBe(1);
    expect(main.stderr).toMatch(/a fifo/);
    expect(thread.exitCode).toBe(main.exitCode);
    expect(thread.stderr).toBe(main.stderr);
    expect(readFileSync(thread.img).equals(readFileSync(main.img))).toBe(true);
    execFileSync('fsck.fat', ['-n', thread.img], { stdio: 'ignore' });
    for (const [name, bytes] of files) {
      const back = execFileSync('mtype', ['-i', thread.img, `::/${name}`], { maxBuffer: 8 * 1024 * 1024 });
      expect(back.equals(bytes), name).toBe(true);
    }
    const listed = execFileSync('mdir', ['-i', thread.img, '-/', '-b', '::/'], { encoding: 'utf8' }).split('\n').filter((l) => l && !l.endsWith('/'));
    expect(listed.length).toBe(files.size);
  });
});
