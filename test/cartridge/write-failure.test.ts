/**
 * A copy into a Cartridge image that cannot be written to the end (the disk fills up, or
 * a file size limit: prlimit --fsize makes every write past it fail with EFBIG, as a full
 * disk fails with ENOSPC) is reported with exit 1 and leaves the image consistent: fsck
 * clean, the files copied before it whole, the failed one absent, its pages not leaked
 * (the file is no longer than before), and the next copy works. Before, the commit that
 * followed a failed file named pages past the end of the file and no command could open
 * the image again.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, diskkit, diskkitBytes } from '../helpers/cli.js';
import { requireTools } from '../helpers/oracle.js';
import { patternBytes } from './scratch.js';

const tools = requireTools('prlimit');
const work = mkdtempSync(join(tmpdir(), 'diskkit-cart-write-failure-'));
const ENV = { DISKKIT_PASSPHRASE: 'write failure' };

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Bytes that no codec shrinks (patternBytes is a xorshift stream), so their size on disk is known. */
const noise = (length: number, seed: number): Buffer => Buffer.from(patternBytes(length, seed));

/** diskkit under a file size limit of `limit` bytes (writes past it fail with EFBIG). */
async function limited(limit: number, args: string[]) {
  return execa('prlimit', [`--fsize=${limit}`, process.execPath, BIN, ...args], { reject: false, env: { ...process.env, ...ENV } });
}

async function expectConsistent(image: string, files: Record<string, Buffer>): Promise<void> {
  const fsck = await diskkit(['fsck', image], { env: ENV });
  expect([fsck.exitCode, fsck.stderr], String(fsck.stdout)).toEqual([0, '']);
  const listed = JSON.parse(String((await diskkit(['--json', 'ls', '-R', image], { env: ENV })).stdout)) as { path: string; type: string }[];
  expect(listed.filter((e) => e.type === 'file').map((e) => e.path).sort()).toEqual(Object.keys(files).sort());
  for (const [path, bytes] of Object.entries(files)) {
    const r = await diskkitBytes(['cat', `${image}:${path}`], ENV);
    expect(Buffer.compare(Buffer.from(r.stdout as Uint8Array), bytes), path).toBe(0);
  }
}

describe.runIf(tools).each([
  ['uncompressed', ['--compress', 'none']],
  ['lz4', ['--compress', 'lz4']],
  ['encrypted zstd', ['--compress', 'zstd', '--encrypt']],
])('a %s Cartridge image that a copy cannot write to the end', (name, mkfsFlags) => {
  const dir = join(work, name.replace(/ /g, '-'));
  mkdirSync(dir, { recursive: true });
  const small = noise(3_000, 1);
  const big = noise(3 << 20, 2);
  const bigPath = join(dir, 'big.bin');
  writeFileSync(bigPath, big);

  async function freshImage(file: string): Promise<string> {
    const image = join(dir, file);
    expect((await diskkit(['mkfs', image, '--type', 'cartridge', ...mkfsFlags, '-q'], { env: ENV })).exitCode).toBe(0);
    return image;
  }

  it('cp of one file: exit 1 naming the write, the image as before, and the next copy works', async () => {
    const image = await freshImage('one.cart');
    writeFileSync(join(dir, 'small.bin'), small);
    expect((await diskkit(['cp', join(dir, 'small.bin'), `${image}:/small.bin`], { env: ENV })).exitCode).toBe(0);
    const before = statSync(image).size;
    const r = await limited(before + (1 << 20), ['cp', bigPath, `${image}:/big.bin`]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^diskkit: .*one\.cart: cannot write page \d+: EFBIG/);
    expect(statSync(image).size).toBe(before);
    await expectConsistent(image, { '/small.bin': small });
    expect((await diskkit(['cp', bigPath, `${image}:/big.bin`], { env: ENV })).exitCode).toBe(0);
    await expectConsistent(image, { '/small.bin': small, '/big.bin': big });
  });

  it('cp -r into an image that holds files: the files that fit are copied whole, the others reported, fsck clean', async () => {
    const image = await freshImage('tree.cart');
    writeFileSync(join(dir, 'first.bin'), small);
    expect((await diskkit(['cp', join(dir, 'first.bin'), `${image}:/first.bin`], { env: ENV })).exitCode).toBe(0);
    const tree = join(dir, 'tree');
    mkdirSync(tree, { recursive: true });
    const parts = [1, 2, 3, 4].map((i) => noise(700_000, 10 + i));
    parts.forEach((bytes, i) => writeFileSync(join(tree, `part-${i}`), bytes));
    const r = await limited(statSync(image).size + 1_600_000, ['cp', '-r', `${tree}/.`, `${image}:/`]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/cannot write page \d+: EFBIG/);
    const listed = JSON.parse(String((await diskkit(['--json', 'ls', image], { env: ENV })).stdout)) as { path: string }[];
    const copied = listed.map((e) => e.path).filter((p) => p.startsWith('/part-'));
    expect(copied.length).toBeGreaterThan(0);
    expect(copied.length).toBeLessThan(parts.length);
    await expectConsistent(image, { '/first.bin': small, ...Object.fromEntries(copied.map((p) => [p, parts[Number(p.slice(6))]!])) });
  });

  it('cp -r into an empty image (the bulk import): the image stays empty and keeps no space', async () => {
    const image = await freshImage('bulk.cart');
    const before = statSync(image).size;
    const tree = join(dir, 'bulk-tree');
    mkdirSync(tree, { recursive: true });
    for (let i = 0; i < 4; i++) writeFileSync(join(tree, `f${i}`), noise(700_000, 20 + i));
    const r = await limited(before + 1_600_000, ['cp', '-r', `${tree}/.`, `${image}:/`]);
    expect(r.exitCode).toBe(1);
    expect(statSync(image).size).toBe(before);
    await expectConsistent(image, {});
  });
});
