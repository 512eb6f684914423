/**
 * `cp IMAGE:/SRC missing.img:/DEST`: a destination shaped like IMAGE:/PATH whose image does
 * not exist is reported as a missing image (as with a host source), not as a failure to
 * create a host directory called `missing.img:`; a host directory that really has that
 * name still receives the copy.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { diskkit, diskkitBytes } from './helpers/cli.js';

const FAT12 = fileURLToPath(new URL('../fixtures/fat12.img', import.meta.url));

describe('cp out of an image to IMAGE:/PATH of a missing image', () => {
  it('is E_NOT_FOUND naming the missing image, for one file and for -r, into a folder or the root, and writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'diskkit-cp-dest-'));
    const missing = join(dir, 'missing.img');
    for (const args of [['cp', `${FAT12}:/UPPER.TXT`, `${missing}:/x.txt`], ['cp', '-r', `${FAT12}:/`, `${missing}:/b`], ['cp', '-r', `${FAT12}:/`, `${missing}:/`], ['cp', `${FAT12}:/UPPER.TXT`, `${missing}:/`]]) {
      const r = await diskkit(['--json', ...args]);
      expect(r.exitCode, args.join(' ')).toBe(1);
      const doc = JSON.parse(r.stdout) as { error: { code: string; image: string } };
      expect(doc.error.code).toBe('E_NOT_FOUND');
      expect(doc.error.image).toBe(missing);
    }
    expect(existsSync(`${missing}:`)).toBe(false);
  });

  it('a host directory named like one still receives the copy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'diskkit-cp-dest-'));
    const hostDir = join(dir, 'odd.img:');
    mkdirSync(hostDir);
    const r = await diskkit(['cp', `${FAT12}:/UPPER.TXT`, `${hostDir}/x.txt`]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(hostDir, 'x.txt'))).toEqual(Buffer.from((await diskkit(['cat', `${FAT12}:/UPPER.TXT`])).stdout));
  });
});

describe('cp out to a DEST that is a symbolic link', () => {
  // GNU cp is the oracle: it writes through a link to a file or a device, and refuses a dangling one.
  const setup = () => {
    const dir = mkdtempSync(join(tmpdir(), 'diskkit-cp-link-'));
    writeFileSync(join(dir, 'real-cp.txt'), 'old contents\n');
    writeFileSync(join(dir, 'real-dk.txt'), 'old contents\n');
    symlinkSync('real-cp.txt', join(dir, 'link-cp.txt'));
    symlinkSync('real-dk.txt', join(dir, 'link-dk.txt'));
    symlinkSync('missing-cp.txt', join(dir, 'dangling-cp.txt'));
    symlinkSync('missing-dk.txt', join(dir, 'dangling-dk.txt'));
    return dir;
  };

  it('writes through a link to a file and refuses a dangling one, as cp(1) does', async () => {
    const dir = setup();
    const source = join(dir, 'source.txt');
    writeFileSync(source, Buffer.from((await diskkitBytes(['cat', `${FAT12}:/UPPER.TXT`])).stdout as Uint8Array));
    for (const name of ['link', 'dangling']) {
      const peer = spawnSync('cp', [source, join(dir, `${name}-cp.txt`)]);
      const r = await diskkit(['cp', `${FAT12}:/UPPER.TXT`, join(dir, `${name}-dk.txt`)]);
      expect(r.exitCode === 0, `${name}: ${r.stderr}`).toBe(peer.status === 0);
      expect(lstatSync(join(dir, `${name}-dk.txt`)).isSymbolicLink()).toBe(true);
    }
    expect(readFileSync(join(dir, 'real-dk.txt'))).toEqual(readFileSync(join(dir, 'real-cp.txt')));
    expect(existsSync(join(dir, 'missing-dk.txt'))).toBe(existsSync(join(dir, 'missing-cp.txt')));
    const r = await diskkit(['cp', `${FAT12}:/UPPER.TXT`, join(dir, 'dangling-dk.txt')]);
    expect(r.stderr).toMatch(/not writing through dangling symbolic link/);
  });

  it('writes a small and a large file to /dev/stdout (a link to a pipe) as cat writes them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'diskkit-cp-stdout-'));
    const image = join(dir, 't.img');
    const big = join(dir, 'big.bin');
    writeFileSync(big, Buffer.from(Array.from({ length: 700_000 }, (_, i) => (i * 7919) >> 5)));
    expect((await diskkit(['mkfs', image, '--size', '8M'])).exitCode).toBe(0);
    expect((await diskkit(['cp', big, `${image}:/big.bin`])).exitCode).toBe(0);
    for (const path of [`${FAT12}:/UPPER.TXT`, `${image}:/big.bin`]) {
      const viaCp = await diskkitBytes(['cp', path, '/dev/stdout']);
      expect(viaCp.exitCode, String(viaCp.stderr)).toBe(0);
      const viaCat = await diskkitBytes(['cat', path]);
      expect(Buffer.from(viaCp.stdout as Uint8Array)).toEqual(Buffer.from(viaCat.stdout as Uint8Array));
    }
  });

  it('inside a tree copy a link where a file goes is refused and its target left alone', async () => {
    const dir = setup();
    const out = join(dir, 'tree');
    mkdirSync(out);
    symlinkSync(join(dir, 'real-dk.txt'), join(out, 'UPPER.TXT'));
    const r = await diskkit(['--json', 'cp', '-r', `${FAT12}:/`, out]);
    expect(r.exitCode).toBe(1);
    const doc = JSON.parse(r.stdout) as { errors: { path: string; message: string }[] };
    expect(doc.errors.map((e) => [e.path, e.message])).toEqual([[join(out, 'UPPER.TXT'), 'cannot create output file: a symbolic link is in the way (not followed)']]);
    expect(readFileSync(join(dir, 'real-dk.txt'), 'utf8')).toBe('old contents\n');
  });
});

describe('cp of an image file onto itself', () => {
  it('fails as GNU cp fails on the host (same name, or the directory holding it) and leaves the image as it was', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'diskkit-cp-same-'));
    const image = join(dir, 'same.img');
    expect((await diskkit(['mkfs', image, '--size', '4M'])).exitCode).toBe(0);
    writeFileSync(join(dir, 'h.txt'), 'one file\n');
    expect((await diskkit(['cp', join(dir, 'h.txt'), `${image}:/h.txt`])).exitCode).toBe(0);
    const before = readFileSync(image);
    for (const [from, to] of [['h.txt', 'h.txt'], ['h.txt', '.'], ['h.txt', 'H.TXT']]) {
      // GNU cp on the host, in the image's place; FAT takes H.TXT for h.txt, as a case-insensitive host would.
      const peer = spawnSync('cp', [from, to === 'H.TXT' ? 'h.txt' : to], { cwd: dir });
      const r = await diskkit(['cp', `${image}:/${from}`, `${image}:/${to === '.' ? '' : to}`]);
      expect(r.exitCode === 0, `${from} -> ${to}: ${r.stderr}`).toBe(peer.status === 0);
      expect(r.stderr).toMatch(/are the same file/);
    }
    expect(readFileSync(image).equals(before)).toBe(true);
    const other = await diskkit(['cp', `${image}:/h.txt`, `${image}:/h2.txt`]);
    expect(other.exitCode).toBe(spawnSync('cp', ['h.txt', 'h2.txt'], { cwd: dir }).status);
  });
});
