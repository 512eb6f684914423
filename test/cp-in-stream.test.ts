/**
 * Streams as cp operands, as cp(1) takes them: `/dev/stdin` (a socket under execa, a pipe
 * under a shell), a FIFO, a character device. What lands in the image is what the
 * stream yielded (checked by reading it back with mtools and diskkit), named as cp(1)
 * names it (GNU cp run on the same operand into a host directory is the oracle), and a
 * stream the image cannot hold is E_NO_SPACE with the image left as it was (fsck.fat).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { BIN } from './helpers/cli.js';
import { requireTools } from './helpers/oracle.js';

const HAVE = requireTools('mtype', 'fsck.fat');
let dir = '';
/** The TMPDIR diskkit runs with: the temporary copies of streams must be gone from it afterwards. */
let spool = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'diskkit-cp-stream-'));
  spool = join(dir, 'spool');
  mkdirSync(spool);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (args: string[], input?: Buffer) => execa('node', [BIN, ...args], { reject: false, encoding: 'buffer', stripFinalNewline: false, ...(input ? { input } : {}), env: { NO_COLOR: '1', TMPDIR: spool } });

const text = (bytes: unknown): string => Buffer.from(bytes as Uint8Array).toString('utf8');

function freshFat(name: string, size = '4M'): string {
  const image = join(dir, name);
  execFileSync('node', [BIN, 'mkfs', image, '--size', size]);
  return image;
}

describe.runIf(HAVE)('cp of a stream into an image', () => {
  it('copies /dev/stdin (a socket under execa) byte for byte, into FAT and a Cartridge', async () => {
    const data = randomBytes(700_000);
    const fat = freshFat('stdin.img');
    const r = await run(['--json', 'cp', '/dev/stdin', `${fat}:/data.bin`], data);
    expect(r.exitCode, text(r.stderr)).toBe(0);
    expect(JSON.parse(text(r.stdout)).written).toEqual([expect.objectContaining({ path: '/data.bin', from: '/dev/stdin', size: data.length })]);
    expect(execFileSync('mtype', ['-i', fat, '::/DATA.BIN'], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' }, maxBuffer: 4 << 20 }).equals(data)).toBe(true);
    const cart = join(dir, 'stdin.cart');
    expect((await run(['mkfs', cart, '--type', 'cartridge'])).exitCode).toBe(0);
    expect((await run(['cp', '/dev/stdin', `${cart}:/data.bin`], data)).exitCode).toBe(0);
    expect(Buffer.from((await run(['cat', `${cart}:/data.bin`])).stdout as Uint8Array).equals(data)).toBe(true);
    expect(readdirSync(spool)).toEqual([]);
  });

  it('names a FIFO copied into a directory as cp(1) names it, with what was written to it', async () => {
    const fat = freshFat('fifo.img');
    const fifo = join(dir, 'pipe-in');
    execFileSync('mkfifo', [fifo]);
    const written = 'through a named pipe\n'.repeat(1000);
    // GNU cp into a host directory, then diskkit into the image's root: each reads one writer's text.
    const host = join(dir, 'cp-out');
    mkdirSync(host);
    const feed = () => spawn('sh', ['-c', `printf '%s' "$1" > "$2"`, 'sh', written, fifo]);
    feed();
    execFileSync('cp', [fifo, host + '/']);
    feed();
    const r = await run(['cp', fifo, `${fat}:/`]);
    expect(r.exitCode, text(r.stderr)).toBe(0);
    const names = readdirSync(host);
    expect(names).toEqual(['pipe-in']);
    const listed = text((await run(['ls', '-b', fat])).stdout).trim().split('\n');
    expect(listed).toEqual(names.map((n) => `/${n}`));
    expect(text((await run(['cat', `${fat}:/${names[0]}`])).stdout)).toBe(readFileSync(join(host, names[0]!), 'utf8'));
  });

  it('refuses a stream longer than the free space (/dev/zero) with E_NO_SPACE, leaving the image and TMPDIR as they were', async () => {
    const fat = freshFat('zero.img', '2M');
    const before = readFileSync(fat);
    const r = await run(['--json', 'cp', '/dev/zero', `${fat}:/z`]);
    expect(r.exitCode).toBe(1);
    const doc = JSON.parse(text(r.stdout)) as { errors: { path: string; code: string }[] };
    expect(doc.errors).toEqual([expect.objectContaining({ path: '/dev/zero', code: 'E_NO_SPACE' })]);
    expect(readFileSync(fat).equals(before)).toBe(true);
    execFileSync('fsck.fat', ['-n', fat]);
    expect(readdirSync(spool)).toEqual([]);
  });

  it('names the operand in -v, and leaves nothing in TMPDIR when Ctrl-C stops it mid-stream', async () => {
    const fat = freshFat('verbose.img');
    const v = await run(['cp', '-v', '/dev/stdin', `${fat}:/v.txt`], Buffer.from('seen\n'));
    expect(text(v.stdout)).toBe(`'/dev/stdin' -> '${fat}:/v.txt'\n`);
    const fifo = join(dir, 'slow-pipe');
    execFileSync('mkfifo', [fifo]);
    // A writer that sends a line and then holds the pipe open: diskkit is reading when the signal comes.
    const holder = spawn('sh', ['-c', `exec 3>"$1"; echo partial >&3; exec sleep 30`, 'sh', fifo], { stdio: 'ignore' });
    const child = execa('node', [BIN, 'cp', fifo, `${fat}:/`], { reject: false, env: { NO_COLOR: '1', TMPDIR: spool } });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    child.kill('SIGINT');
    const r = await child;
    holder.kill();
    expect(r.exitCode ?? r.signal).not.toBe(0);
    expect(readdirSync(spool)).toEqual([]);
    execFileSync('fsck.fat', ['-n', fat]);
  });
});
