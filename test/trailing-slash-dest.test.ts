/**
 * A destination written with a trailing slash (`IMAGE:/name/`) must be a directory, as
 * for cp(1) and mv(1): a file is never created or renamed to `name`; rm(1) does not
 * remove a file named `name/`; ls(1), cat(1) and cp(1) do not read a file named `name/`.
 * The oracle is GNU cp, mv, rm, ls and cat run on a host copy of the same tree: each
 * case must succeed or fail as they do and leave the same tree behind.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { diskkit } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'diskkit-trailing-slash-'));
const base = join(dir, 'base');
mkdirSync(join(base, 'sub'), { recursive: true });
writeFileSync(join(base, 'file.txt'), 'a file\n');
writeFileSync(join(base, 'other.txt'), 'another file\n');
writeFileSync(join(base, 'sub', 'inner.txt'), 'inside\n');
writeFileSync(join(dir, 'host.txt'), 'from the host\n');
mkdirSync(join(dir, 'hostdir'));
writeFileSync(join(dir, 'hostdir', 'h.txt'), 'host dir file\n');

/** Each case: the tool (cp, mv or rm), its arguments with IMG standing for the tree's root and HOST for the host files' folder. */
const cases: [string, string[]][] = [
  ['cp', ['HOST/host.txt', 'IMG/nodir/']],
  ['cp', ['HOST/host.txt', 'IMG/file.txt/']],
  ['cp', ['HOST/host.txt', 'IMG/sub/']],
  ['cp', ['-r', 'HOST/hostdir', 'IMG/newdir/']],
  ['cp', ['IMG/other.txt', 'IMG/nodir/']],
  ['mv', ['IMG/file.txt', 'IMG/nodir/']],
  ['mv', ['IMG/file.txt', 'IMG/other.txt/']],
  ['mv', ['IMG/sub', 'IMG/renamed/']],
  ['mv', ['IMG/file.txt', 'IMG/sub/']],
  ['rm', ['IMG/file.txt/']],
  ['rm', ['IMG/file.txt/', 'IMG/other.txt']],
  ['rm', ['-r', 'IMG/sub/']],
  // Reading: 'file/' is not a directory for ls(1), cat(1) and cp(1) either.
  ['cat', ['IMG/file.txt/']],
  ['ls', ['IMG/file.txt/']],
  ['ls', ['IMG/sub/']],
  ['cp', ['IMG/file.txt/', 'HOST/copied-out.txt']],
];

function hostTree(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const isDir = statSync(p).isDirectory();
      out.push(`/${relative(root, p)}${isDir ? '/' : ''}`);
      if (isDir) walk(p);
    }
  };
  walk(root);
  return out.sort();
}

let n = 0;
describe.each(['cartridge', 'fat16'])('a trailing slash on the destination, %s', (type) => {
  it.each(cases)('%s %j succeeds or fails as the GNU tool does, leaving the same tree', async (tool, args) => {
    const host = join(dir, `host-${n}`);
    const image = join(dir, `image-${n++}.img`);
    if (tool === 'cp' && args[1]!.startsWith('HOST')) args = [args[0]!, args[1]!.replace('copied-out', `copied-out-${n}`)];
    cpSync(base, host, { recursive: true });
    const theirs = spawnSync(tool, args.map((a) => a.replace(/^IMG/, host).replace(/^HOST/, dir)));
    const made = await diskkit(type === 'cartridge' ? ['mkfs', image, '--type', 'cartridge', '--from', base] : ['mkfs', image, '--size', '16M', '--type', type, '--from', base]);
    expect(made.exitCode, made.stderr).toBe(0);
    const ours = await diskkit([tool, ...args.map((a) => a.replace(/^IMG/, `${image}:`).replace(/^HOST/, dir))]);
    expect(ours.exitCode === 0, `${ours.stderr} / ${String(theirs.stderr)}`).toBe(theirs.status === 0);
    const listed = await diskkit(['--json', 'ls', '-R', image]);
    expect(listed.exitCode, listed.stderr).toBe(0);
    const tree = (JSON.parse(listed.stdout) as { path: string; type: string }[]).map((e) => `${e.path}${e.type === 'dir' ? '/' : ''}`).sort();
    expect(tree).toEqual(hostTree(host));
  });
});
