/**
 * Crash safety of the FAT write commands, judged by other tools (fsck.fat, mtools):
 * - Ctrl-C (SIGINT) and SIGTERM end a write as a rollback or a commit, never with
 *   the dirty flag set (issue 14 item 4);
 * - a write that fails half-way is rolled back (FatWriter flush, fsck --repair);
 * - a CI-sized run of scripts/crash-test.js: 100 SIGKILLs at seeded instants over
 *   cp -r, rm -r, mv and fsck --repair, each followed by recovery and an mtools
 *   comparison with the before/after states.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { BIN, diskkit } from './helpers/cli.js';
import { requireTools } from './helpers/oracle.js';
import { expectFsckClean, makeImage, MENV } from './helpers/fat-write.js';
import { openVolume } from '../src/engine/open-volume.js';
import { openImage } from '../src/engine/image.js';
import { checkFat } from '../src/engine/fat/fsck/index.js';
import { journalPathFor, setJournalSync } from '../src/engine/journal/index.js';
import type { FileBlockSource } from '../src/io/block-source.js';
// @ts-expect-error plain JS script, no declarations
import { runCrashTest } from '../scripts/crash-test.js';

const HAVE = requireTools('mkfs.fat', 'fsck.fat', 'mcopy', 'mdir', 'mmd');
let work = '';
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dk-crash-'));
  setJournalSync(false);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** mdir's recursive listing: names, sizes, dates and free space as mtools sees them. */
function mdir(img: string): string {
  return spawnSync('mdir', ['-/', '-a', '-i', img, '::/'], { encoding: 'utf8', env: MENV }).stdout;
}

/** A host tree of `count` files (sizes up to 9 KB) in a few directories. */
function hostTree(root: string, count: number): void {
  for (let i = 0; i < count; i++) {
    const dir = join(root, `d${i % 7}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `file number ${i}.dat`), Buffer.alloc((i * 977) % 9000, i & 0xff));
  }
}

/** Runs diskkit and sends `signal` as soon as the image's journal appears (the write phase began). */
async function interruptWhenWriting(args: string[], img: string, signal: NodeJS.Signals, journalBytes = 0): Promise<{ code: number | null; signal: NodeJS.Signals | null; sent: boolean }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: 'ignore', env: { ...process.env, NO_COLOR: '1' } });
  let sent = false;
  const check = (): void => {
    if (sent) return;
    try {
      if (journalBytes === 0 ? existsSync(journalPathFor(img)) : statSync(journalPathFor(img)).size > journalBytes) {
        sent = true;
        child.kill(signal);
      }
    } catch {
      // the journal is gone again: the write phase is over
    }
  };
  const poll = setInterval(check, 1);
  // inotify sees the journal appear (and grow) even when a write phase is shorter than a poll on a
  // loaded machine; the signal then goes at once, and the checks below accept "before" and "after".
  const watcher = watch(dirname(journalPathFor(img)), (_event, name) => {
    if (name === basename(journalPathFor(img))) check();
  });
  const [code, sig] = (await new Promise((resolve) => child.once('exit', (c, s) => resolve([c, s])))) as [number | null, NodeJS.Signals | null];
  clearInterval(poll);
  watcher.close();
  return { code, signal: sig, sent };
}

describe.runIf(HAVE)('Ctrl-C and SIGTERM during a write', () => {
  it('SIGINT in the middle of cp -r rolls the copy back: no journal, fsck clean, the tree as before', async () => {
    const dir = join(work, 'sigint-cp');
    mkdirSync(dir);
    const img = makeImage(dir, 'fat16');
    const before = mdir(img);
    hostTree(join(dir, 'src'), 1500);
    const r = await interruptWhenWriting(['cp', '-r', join(dir, 'src'), `${img}:/new`], img, 'SIGINT');
    expect(r.sent).toBe(true);
    // Killed by the re-raised SIGINT, as a shell reports 130.
    expect(r.signal).toBe('SIGINT');
    expect(existsSync(journalPathFor(img))).toBe(false);
    expectFsckClean(img);
    expect(mdir(img)).toBe(before);
    const fsck = await diskkit(['fsck', img]);
    expect(fsck.exitCode).toBe(0);
  });

  it.each([
    ['rm -r', (img: string) => ['rm', '-r', `${img}:/tree`]],
    ['mv', (img: string) => ['mv', `${img}:/tree/d1`, `${img}:/tree/d2`, `${img}:/tree/d3`, `${img}:/dest`]],
    ['fsck --repair', (img: string) => ['fsck', '--repair', img]],
  ])('SIGTERM during %s ends in the before or the after state, never dirty', async (_name, args) => {
    const dir = join(work, `sigterm-${_name.replace(/\W/g, '')}`);
    mkdirSync(dir);
    const img = makeImage(dir, 'fat16');
    hostTree(join(dir, 'tree'), 200);
    expect(spawnSync('mcopy', ['-s', '-i', img, join(dir, 'tree'), '::/'], { env: MENV }).status).toBe(0);
    expect(spawnSync('mmd', ['-i', img, '::/dest'], { env: MENV }).status).toBe(0);
    if (_name === 'fsck --repair') {
      // Something to repair: the dirty flag in FAT[1] and a lost chain near the end.
      const bytes = readFileSync(img);
      const fat = 4 * 512;
      for (const copy of [0, 1]) {
        const at = fat + copy * 32 * 512;
        bytes.writeUInt16LE(bytes.readUInt16LE(at + 2) & 0x7fff, at + 2);
        bytes.writeUInt16LE(7001, at + 7000 * 2);
        bytes.writeUInt16LE(0xffff, at + 7001 * 2);
      }
      writeFileSync(img, bytes);
    }
    const base = join(dir, 'base.img');
    copyFileSync(img, base);
    const finished = join(dir, 'finished.img');
    copyFileSync(img, finished);
    const full = await diskkit(args(finished));
    expect(full.exitCode).toBe(_name === 'fsck --repair' ? 1 : 0);
    // A write phase can be shorter than the interrupter's reaction on a loaded machine (the
    // journal already gone when it looks): such a run interrupted nothing, so it starts again
    // from the same image, a few times, until the signal lands while the journal is there.
    let r = await interruptWhenWriting(args(img), img, 'SIGTERM');
    for (let attempt = 1; !r.sent && attempt < 8; attempt++) {
      copyFileSync(base, img);
      r = await interruptWhenWriting(args(img), img, 'SIGTERM');
    }
    expect(r.sent).toBe(true);
    expect(existsSync(journalPathFor(img))).toBe(false);
    const now = mdir(img);
    if (_name === 'fsck --repair') {
      // FOUND.000's times are the repair's: compare names and sizes only.
      const strip = (s: string) => s.replace(/\d{4}-\d{2}-\d{2}\s+\d{1,2}:\d{2}/g, '');
      expect([strip(mdir(base)), strip(mdir(finished))]).toContain(strip(now));
      if (strip(now) === strip(mdir(finished))) expectFsckClean(img);
    } else {
      expect([mdir(base), mdir(finished)]).toContain(now);
      expectFsckClean(img);
    }
  });
});

describe.runIf(HAVE)('a write that fails half-way is rolled back', () => {
  /** Makes the k-th write of the source throw, as a full host disk or an I/O error would. */
  function failWriteNumber(source: FileBlockSource, k: number): void {
    const write = source.writeAt.bind(source);
    let calls = 0;
    source.writeAt = (buf, offset, length, position) => {
      if (++calls === k) throw Object.assign(new Error('injected EIO'), { code: 'EIO' });
      write(buf, offset, length, position);
    };
  }

  it('cp-like writes whose flush fails leave the image as mtools and fsck.fat saw it before', async () => {
    const dir = join(work, 'fail-flush');
    mkdirSync(dir);
    for (const k of [2, 3, 5]) {
      const img = makeImage(dir, 'fat32', `f${k}.img`);
      const before = mdir(img);
      const volume = await openVolume(img, { writable: true });
      volume.mkdir('/docs');
      for (let i = 0; i < 40; i++) volume.writeFile(`/docs/a long name ${i}.txt`, Buffer.alloc(3000 + i, i));
      failWriteNumber(volume.source as FileBlockSource, k);
      expect(() => volume.commit()).toThrow(/injected EIO/);
      volume.close();
      expect(existsSync(journalPathFor(img))).toBe(false);
      expect(mdir(img)).toBe(before);
      expectFsckClean(img);
    }
  });

  it('fsck --repair whose writes fail half-way leaves the image exactly as before the repair', async () => {
    const dir = join(work, 'fail-repair');
    mkdirSync(dir);
    const img = makeImage(dir, 'fat16');
    hostTree(join(dir, 'tree'), 30);
    expect(spawnSync('mcopy', ['-s', '-i', img, join(dir, 'tree'), '::/'], { env: MENV }).status).toBe(0);
    const bytes = readFileSync(img);
    for (const copy of [0, 1]) bytes.writeUInt16LE(0xffff, 4 * 512 + copy * 32 * 512 + 6000 * 2); // a lost cluster
    bytes[4 * 512 + 32 * 512 + 5000 * 2] = 0x33; // and the copies differ: every write is saved
    writeFileSync(img, bytes);
    const opened = await openImage(img, { writable: true });
    // The repair is staged in memory and written as a few coalesced runs at the end: the second of them fails.
    failWriteNumber(opened.source as FileBlockSource, 2);
    await expect(checkFat(opened.source, { repair: true })).rejects.toThrow(/injected EIO/);
    opened.source.close();
    expect(readFileSync(img).equals(bytes)).toBe(true);
    expect(existsSync(journalPathFor(img))).toBe(false);
  });
});

describe.runIf(HAVE)('mkfs and recovery through the CLI', () => {
  it('mkfs --from that runs out of space leaves no image behind', async () => {
    const dir = join(work, 'mkfs-full');
    mkdirSync(dir);
    hostTree(join(dir, 'tree'), 300);
    const img = join(dir, 'small.img');
    const r = await diskkit(['mkfs', img, '--size', '1M', '--from', join(dir, 'tree')]);
    expect(r.exitCode).toBe(1);
    // A tree that cannot fit is refused before anything is written (else E_NO_SPACE mid-copy): either way nothing is left.
    expect(r.stderr).toMatch(/does not fit in a 1 MiB|no space left/);
    expect(existsSync(img)).toBe(false);
    expect(existsSync(journalPathFor(img))).toBe(false);
  });

  it('a mkfs --from killed half-way is undone by the next command: no image at all', async () => {
    const dir = join(work, 'mkfs-killed');
    mkdirSync(dir);
    hostTree(join(dir, 'tree'), 800);
    const img = join(dir, 'new.img');
    const child = spawn(process.execPath, [BIN, 'mkfs', img, '--from', join(dir, 'tree')], { stdio: 'ignore' });
    // Killed once the format is on disk and the fill has begun.
    const poll = setInterval(() => {
      if (existsSync(img) && existsSync(journalPathFor(img)) && spawnSync('mdir', ['-i', img, '::/'], { env: MENV }).status === 0) child.kill('SIGKILL');
    }, 5);
    await new Promise((resolve) => child.once('exit', resolve));
    clearInterval(poll);
    expect(existsSync(journalPathFor(img))).toBe(true);
    const r = await diskkit(['info', img]);
    expect(r.stderr).toMatch(/removed the image an interrupted mkfs had started/);
    expect(existsSync(img)).toBe(false);
    expect(existsSync(journalPathFor(img))).toBe(false);
  });

  it('a hot journal beside a read-only image is reported with E_JOURNAL and nothing is changed', async () => {
    const dir = join(work, 'ro-hot');
    mkdirSync(dir);
    const img = makeImage(dir, 'fat16');
    hostTree(join(dir, 'src'), 600);
    // Killed once the journal holds a saved sector (more than its 512-byte header).
    const r1 = await interruptWhenWriting(['cp', '-r', join(dir, 'src'), `${img}:/new`], img, 'SIGKILL', 512);
    expect(r1.signal).toBe('SIGKILL');
    expect(existsSync(journalPathFor(img))).toBe(true);
    const torn = readFileSync(img);
    chmodSync(img, 0o444);
    const r = await diskkit(['ls', `${img}:/`]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^diskkit: .*needs write access to the image to roll back/m);
    expect(readFileSync(img).equals(torn)).toBe(true);
    chmodSync(img, 0o644);
    const again = await diskkit(['ls', `${img}:/`]);
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toMatch(/rolled back an interrupted diskkit write/);
    expectFsckClean(img);
  });
});

describe.runIf(HAVE)('crash test (CI size)', () => {
  it('100 SIGKILLs over cp -r, rm -r, mv and fsck --repair: every image recovers to its before or after state', async () => {
    const seed = Number(process.env.CRASH_SEED ?? 20261206);
    const summary = await runCrashTest({ kills: 100, seed, scale: 'ci', jobs: 2 });
    const failures = summary.results.flatMap((r: { scenario: string; failures: unknown[] }) => r.failures.map((f) => ({ scenario: r.scenario, ...(f as object) })));
    expect(failures).toEqual([]);
    for (const r of summary.results) {
      expect(r.before + r.after).toBe(r.kills);
      // The kills reached the write phase: some left a hot journal for recovery to roll back.
      expect(r.hotJournal).toBeGreaterThan(0);
    }
    expect(summary.results.reduce((n: number, r: { kills: number }) => n + r.kills, 0)).toBeGreaterThanOrEqual(100);
    expect(summary.results.reduce((n: number, r: { killedMidCommand: number }) => n + r.killedMidCommand, 0)).toBeGreaterThan(50);
  }, 900_000);
});
