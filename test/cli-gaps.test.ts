/**
 * Behaviour the issue 12 audit found untested: fsck's operational (8) and usage (16)
 * exit codes, `ls` exiting 1 on an unreadable directory, lost chains saved under
 * /FOUND.000 (and freed with --free-lost), and hostile names on `cp` out (backslash,
 * over-long for the host, case collisions). Images are raw writes on mkfs.fat
 * images; mtools and fsck.fat judge the results.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskkit } from './helpers/cli.js';
import { DIR, EOC, clusterOffset, geometry, makeFat16, setFat, writeEntry, writeLongEntry } from './helpers/hostile-fat.js';
import { requireTools } from './helpers/oracle.js';

const tools = requireTools('mkfs.fat', 'fsck.fat', 'mdir', 'mtype');
const MENV = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'diskkit-gaps-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** fsck.fat -n's "N files, used/total clusters" used count. */
function peerUsedClusters(path: string): number {
  const out = spawnSync('fsck.fat', ['-n', path], { encoding: 'utf8' }).stdout;
  return Number(/(\d+)\/\d+ clusters/.exec(out)![1]);
}

describe('fsck exit codes 8 and 16', () => {
  it('exits 8 on something that is not a FAT image', async () => {
    const path = join(dir, 'random.bin');
    writeFileSync(path, Buffer.alloc(64 * 1024, 0x5a));
    const r = await diskkit(['fsck', path]);
    expect(r.exitCode).toBe(8);
    expect(r.stderr).toMatch(/^diskkit: /);
  });

  it('exits 16 on a usage error (--free-lost without --repair)', async () => {
    const r = await diskkit(['fsck', '--free-lost', join(dir, 'random.bin')]);
    expect(r.exitCode).toBe(16);
    expect(r.stderr).toMatch(/^diskkit: .*--free-lost/);
  });
});

describe.runIf(tools)('lost chains', () => {
  /** Two lost chains: clusters 5 -> 6 holding "AB...", and 9 holding "C...". */
  function lostImage(name: string): { path: string; clean: number } {
    const path = join(dir, `${name}.img`);
    const img = makeFat16(path);
    const clean = peerUsedClusters(path);
    const g = geometry(img);
    setFat(img, g, 5, 6);
    setFat(img, g, 6, EOC);
    setFat(img, g, 9, EOC);
    img.fill(0x41, clusterOffset(g, 5), clusterOffset(g, 6));
    img.fill(0x42, clusterOffset(g, 6), clusterOffset(g, 7));
    img.fill(0x43, clusterOffset(g, 9), clusterOffset(g, 10));
    writeFileSync(path, img);
    return { path, clean };
  }

  it('--repair saves them as /FOUND.000/FILE0000.CHK and FILE0001.CHK with their data', async () => {
    const { path } = lostImage('lost-save');
    const r = await diskkit(['fsck', '--repair', path]);
    expect(r.exitCode).toBe(1);
    expect(spawnSync('fsck.fat', ['-n', path]).status).toBe(0);
    const names = execFileSync('mdir', ['-i', path, '-b', '::/FOUND.000'], { env: MENV, encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    expect(names).toEqual(['::/FOUND.000/FILE0000.CHK', '::/FOUND.000/FILE0001.CHK']);
    const first = execFileSync('mtype', ['-i', path, '::/FOUND.000/FILE0000.CHK'], { env: MENV });
    expect(first).toEqual(Buffer.concat([Buffer.alloc(512, 0x41), Buffer.alloc(512, 0x42)]));
    expect(execFileSync('mtype', ['-i', path, '::/FOUND.000/FILE0001.CHK'], { env: MENV })).toEqual(Buffer.alloc(512, 0x43));
  });

  it('--repair --free-lost frees them: no FOUND.000, and fsck.fat counts the clusters of the clean image', async () => {
    const { path, clean } = lostImage('lost-free');
    const r = await diskkit(['fsck', '--repair', '--free-lost', path]);
    expect(r.exitCode).toBe(1);
    expect(spawnSync('fsck.fat', ['-n', path]).status).toBe(0);
    expect(execFileSync('mdir', ['-i', path, '-b', '::/'], { env: MENV, encoding: 'utf8' })).not.toContain('FOUND');
    expect(peerUsedClusters(path)).toBe(clean);
  });
});

describe.runIf(tools)('ls on an unreadable directory', () => {
  it('reports it and exits 1', async () => {
    const path = join(dir, 'badchain.img');
    const img = makeFat16(path);
    const g = geometry(img);
    // /BROKEN starts at cluster 3, whose FAT entry is free.
    writeEntry(img, g.rootOffset + 32, 'BROKEN', '', DIR, 3, 0);
    writeFileSync(path, img);
    const r = await diskkit(['ls', `${path}:/BROKEN`]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^diskkit: .*BROKEN/);
  });
});

describe.runIf(tools)('hostile names on cp out', () => {
  it('renames backslashes, over-long names and case collisions, and writes nothing outside the destination', async () => {
    const path = join(dir, 'names.img');
    const img = makeFat16(path);
    const g = geometry(img);
    let at = g.rootOffset + 32;
    const files: [string, string][] = [];
    const add = (long: string | null, short: string, content: number) => {
      const c = 3 + files.length;
      setFat(img, g, c, EOC);
      img.fill(content, clusterOffset(g, c), clusterOffset(g, c) + 10);
      if (long) at = writeLongEntry(img, at, long, short, 0x20, c, 10);
      else {
        writeEntry(img, at, short.slice(0, 8).trimEnd(), short.slice(8).trimEnd(), 0x20, c, 10);
        at += 32;
      }
      files.push([long ?? short, short]);
    };
    add('back\\slash.txt', 'BACKSL~1TXT', 0x61);
    add('é'.repeat(200) + '.txt', 'EEEEEE~1TXT', 0x62); // 404 bytes of UTF-8: over the host's 255
    add('Same.txt', 'SAME    TXT', 0x63);
    add('SAME.TXT', 'SAME~1  TXT', 0x64);
    writeFileSync(path, img);
    const out = join(dir, 'out');
    const r = await diskkit(['--json', 'cp', '-r', `${path}:/`, out]);
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout) as { files: number; renamed: { path: string; host: string; reason: string }[] };
    expect(doc.files).toBe(4);
    const host = readdirSync(out).sort();
    expect(host).toHaveLength(4);
    for (const name of host) {
      expect(name).not.toContain('\\');
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
    }
    // The two names that differ only in case stay two files with their own contents.
    const contents = host.map((n) => readFileSync(join(out, n))[0]!).sort((a, b) => a - b);
    expect(contents).toEqual([0x61, 0x62, 0x63, 0x64]);
    // This directory is case-sensitive (tmp on Linux): both keep their names; a folding one would get SAME~1.TXT (cp-out-host-case.test.ts).
    expect(host).toEqual(expect.arrayContaining(['Same.txt', 'SAME.TXT']));
    expect(doc.renamed.map((x) => x.path).sort()).toEqual(expect.arrayContaining(['/back\\slash.txt', `/${'é'.repeat(200)}.txt`]));
    // Nothing beside the destination.
    expect(readdirSync(dir).filter((n) => !n.endsWith('.img') && n !== 'random.bin').sort()).toEqual(['out']);
  });
});
