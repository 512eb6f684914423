/**
 * bin/diskkit, the `diskkit` command npm links: a shell script that starts Node on
 * bin/diskkit.js without NODE_EXTRA_CA_CERTS. Run directly or through links as npm makes
 * them (a relative link in node_modules/.bin, an absolute one in a global bin directory),
 * it must behave exactly as `node bin/diskkit.js` does: the same bytes on stdout and
 * stderr, the same exit code, every argument passed unchanged. The direct run is the
 * oracle; Node's own warning for an unreadable NODE_EXTRA_CA_CERTS file shows which of
 * the two started Node with the variable.
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { afterAll } from 'vitest';

const LAUNCHER = fileURLToPath(new URL('../bin/diskkit', import.meta.url));
const SCRIPT = fileURLToPath(new URL('../bin/diskkit.js', import.meta.url));
const FAT12 = fileURLToPath(new URL('../fixtures/fat12.img', import.meta.url));
const PACKAGE = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { bin: Record<string, string> };

const work = mkdtempSync(join(tmpdir(), 'diskkit-launcher-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** node_modules/.bin/diskkit -> ../diskkit/bin/diskkit (relative), and /…/global/diskkit -> that link (absolute). */
function npmStyleLinks(): { local: string; global: string } {
  const binDir = join(work, 'node_modules', '.bin');
  mkdirSync(binDir, { recursive: true });
  const local = join(binDir, 'diskkit');
  symlinkSync(relative(binDir, LAUNCHER), local);
  const globalDir = join(work, 'global', 'bin');
  mkdirSync(globalDir, { recursive: true });
  const global = join(globalDir, 'diskkit');
  symlinkSync(local, global);
  return { local, global };
}
const links = npmStyleLinks();

type Run = { exitCode: number | undefined; stdout: string; stderr: string };
async function run(file: string, args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const r = await execa(file, args, { reject: false, env: { ...env }, extendEnv: true, stripFinalNewline: false });
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}
const direct = (args: string[], env?: Record<string, string | undefined>) => run(process.execPath, [SCRIPT, ...args], env);

describe('the diskkit launcher', () => {
  it('is the command package.json links, and executable', () => {
    expect(PACKAGE.bin.diskkit).toBe('bin/diskkit');
    expect(statSync(LAUNCHER).mode & 0o111).toBe(0o111);
  });

  const argumentSets: [string, string[]][] = [
    ['a listing', ['ls', '-l', '-R', FAT12]],
    ['JSON output', ['--json', 'info', FAT12]],
    ['an error naming an argument with spaces, quotes, $, * and a newline', ['ls', join(work, `no such "image" $HOME * 'x'\nline`)]],
    ['an empty argument', ['cat', '']],
    ['a usage error', ['ls', '--no-such-option']],
  ];
  for (const [what, args] of argumentSets) {
    it(`prints and exits as node bin/diskkit.js does: ${what}, run directly and through npm's links`, async () => {
      const expected = await direct(args);
      for (const file of [LAUNCHER, links.local, links.global]) {
        const got = await run(file, args);
        expect(got, `${file} ${JSON.stringify(args)}`).toEqual(expected);
      }
    });
  }

  it('starts Node without NODE_EXTRA_CA_CERTS, and only that is different', async () => {
    const env = { NODE_EXTRA_CA_CERTS: join(work, 'missing-ca.pem') };
    const withVariable = await direct(['ls', FAT12], env);
    // Node reads the variable at start-up and warns when the file cannot be loaded.
    expect(withVariable.stderr).toMatch(/extra certs/i);
    const plain = await direct(['ls', FAT12], { NODE_EXTRA_CA_CERTS: undefined });
    expect(plain.stderr).toBe('');
    for (const file of [LAUNCHER, links.global]) {
      const got = await run(file, ['ls', FAT12], env);
      expect(got).toEqual(plain);
      expect(got.stdout).toBe(withVariable.stdout);
    }
  });

  it('execs the node on PATH with bin/diskkit.js and the arguments as given, the malloc settings before the caller\'s', async () => {
    // A stand-in `node` first on PATH that prints what it was started with.
    const fake = join(work, 'fake-node');
    mkdirSync(fake, { recursive: true });
    writeFileSync(join(fake, 'node'), '#!/bin/sh\nprintf "%s\\n" "${NODE_EXTRA_CA_CERTS-(unset)}" "$GLIBC_TUNABLES" "$DISKKIT_PROBE" "$@"\n', { mode: 0o755 });
    const args = ['ls', 'a b', '', '--json', '$HOME'];
    const env = { PATH: `${fake}:${process.env.PATH}`, NODE_EXTRA_CA_CERTS: '/x.pem', DISKKIT_PROBE: 'kept' };
    const ours = 'glibc.malloc.trim_threshold=268435456:glibc.malloc.mmap_threshold=33554432';
    for (const [given, expected] of [[undefined, ours], ['glibc.malloc.trim_threshold=1', `${ours}:glibc.malloc.trim_threshold=1`]] as const) {
      const r = await run(links.global, args, { ...env, GLIBC_TUNABLES: given });
      expect(r.exitCode).toBe(0);
      const lines = r.stdout.split('\n');
      // The script's path as the links led there (…/node_modules/.bin/../…): the same file.
      expect(realpathSync(lines[3]!)).toBe(realpathSync(SCRIPT));
      lines[3] = SCRIPT;
      expect(lines).toEqual(['(unset)', expected, 'kept', SCRIPT, ...args, '']);
    }
  });

  it('passes other variables through (DISKKIT_PASSPHRASE reaches an encrypted mkfs)', async () => {
    const img = join(work, 'enc.cart');
    const made = await run(LAUNCHER, ['mkfs', img, '--type', 'cartridge', '--encrypt'], { DISKKIT_PASSPHRASE: 'launcher test' });
    expect(made.exitCode, made.stderr).toBe(0);
    const right = await direct(['ls', `${img}:/`], { DISKKIT_PASSPHRASE: 'launcher test' });
    expect(right.exitCode, right.stderr).toBe(0);
    const wrong = await run(LAUNCHER, ['ls', `${img}:/`], { DISKKIT_PASSPHRASE: 'not it' });
    expect(wrong).toEqual(await direct(['ls', `${img}:/`], { DISKKIT_PASSPHRASE: 'not it' }));
    expect(wrong.exitCode).not.toBe(0);
  });
});
