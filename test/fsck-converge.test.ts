/**
 * Issue 12, defect 4: repairs that converge. Each image below is one case the
 * mutation corpus (scripts/fsck-convergence.js) found where `fsck --repair` left
 * errors for diskkit's own re-check or for `fsck.fat -n`: a missing '.'/'..' (free
 * slot, or a plain entry sitting in the slot), and old entries after the
 * end-of-directory mark (fsck.fat reads them, DOS does not). After --repair both
 * checkers must be clean, and the entries that were there must still be listed by
 * mdir. Images are raw writes on mkfs.fat images (test/helpers/hostile-fat.ts).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskkit } from './helpers/cli.js';
import { DIR, EOC, clusterOffset, geometry, makeFat16, setFat, writeEntry } from './helpers/hostile-fat.js';
import { requireTools } from './helpers/oracle.js';

const tools = requireTools('mkfs.fat', 'fsck.fat', 'mdir', 'mlabel', 'mtype');
let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'diskkit-converge-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** /SUB at cluster 3 with '.', '..' and FILE.TXT (cluster 4, 10 bytes); `edit` then breaks it. */
function build(name: string, edit: (img: Buffer, sub: number, root: number) => void): string {
  const path = join(dir, `${name}.img`);
  const img = makeFat16(path);
  const g = geometry(img);
  setFat(img, g, 3, EOC);
  setFat(img, g, 4, EOC);
  writeEntry(img, g.rootOffset + 32, 'SUB', '', DIR, 3, 0);
  const sub = clusterOffset(g, 3);
  writeEntry(img, sub, '.', '', DIR, 3, 0);
  writeEntry(img, sub + 32, '..', '', DIR, 0, 0);
  writeEntry(img, sub + 64, 'FILE', 'TXT', 0x20, 4, 10);
  img.write('0123456789', clusterOffset(g, 4), 'latin1');
  edit(img, sub, g.rootOffset);
  writeFileSync(path, img);
  return path;
}

async function repairAndCheck(path: string, code: string): Promise<void> {
  const before = await diskkit(['--json', 'fsck', path]);
  expect(before.exitCode).toBe(4);
  expect((JSON.parse(before.stdout) as { errors: { code: string }[] }).errors.map((e) => e.code)).toContain(code);
  const r = await diskkit(['fsck', '--repair', path]);
  expect(r.exitCode, r.stdout).toBe(1);
  expect((await diskkit(['fsck', path])).exitCode).toBe(0);
  const peer = spawnSync('fsck.fat', ['-n', path], { encoding: 'utf8' });
  expect(peer.status, peer.stdout).toBe(0);
  expect(peer.stdout).not.toMatch(/Expected a valid|outside a LFN|share clusters/);
}

const mdir = (path: string, at: string): string[] => execFileSync('mdir', ['-i', path, '-b', at], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();

describe.runIf(tools)('repairs that converge', () => {
  it("creates a missing '..' in its free slot", async () => {
    const path = build('dotdot-free', (img, sub) => {
      img[sub + 32] = 0xe5;
    });
    await repairAndCheck(path, 'E_FSCK_DOT');
    expect(mdir(path, '::/SUB')).toEqual(['::/SUB/FILE.TXT']);
  });

  it("creates '.' and '..' when the directory starts with its end mark", async () => {
    const path = build('dots-end', (img, sub) => {
      img.fill(0, sub, sub + 96);
    });
    await repairAndCheck(path, 'E_FSCK_DOT');
    expect(mdir(path, '::/SUB')).toEqual([]);
  });

  it("moves a plain entry out of the '.' slot, keeping it", async () => {
    const path = build('dot-taken', (img, sub) => {
      // FILE.TXT now sits in slot 0; slot 2 is deleted.
      img.copy(img, sub, sub + 64, sub + 96);
      img[sub + 64] = 0xe5;
    });
    await repairAndCheck(path, 'E_FSCK_DOT');
    expect(mdir(path, '::/SUB')).toEqual(['::/SUB/FILE.TXT']);
    expect(execFileSync('mtype', ['-i', path, '::/SUB/FILE.TXT'], { encoding: 'latin1' })).toBe('0123456789');
  });

  it('clears the reserved top bits of a long-name slot attribute (fsck.fat takes only 0x0F), keeping the name', async () => {
    const path = build('lfn-attr', (img, sub) => {
      // FILE.TXT moves to slot 3 and gets the long name "file name.txt" in slot 2, whose attribute is 0x8F.
      img.copy(img, sub + 96, sub + 64, sub + 96);
      const units = [...'file name.txt'].map((c) => c.charCodeAt(0));
      const slot = Buffer.alloc(32, 0xff);
      slot[0] = 0x41;
      const offsets = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];
      offsets.forEach((o, k) => slot.writeUInt16LE(k < units.length ? units[k]! : k === units.length ? 0 : 0xffff, o));
      slot[11] = 0x8f;
      slot[12] = 0;
      // fatgen103 section 7: the checksum of the 11 short-name bytes.
      let sum = 0;
      for (let i = 0; i < 11; i++) sum = ((((sum & 1) << 7) | (sum >>> 1)) + img[sub + 96 + i]!) & 0xff;
      slot[13] = sum;
      slot.writeUInt16LE(0, 26);
      slot.copy(img, sub + 64);
    });
    await repairAndCheck(path, 'E_FSCK_LFN_RESERVED');
    expect(mdir(path, '::/SUB')).toEqual(['::/SUB/file name.txt']);
  });

  it("creates '.' in a second pass, once the first pass removed the entry sitting in its slot (directory full)", async () => {
    const path = build('dot-second-pass', (img, sub) => {
      // Slot 0: a directory entry without a start cluster (removed by the repair); slots 3..15 of
      // the one-cluster directory are empty files, so no free slot exists to move it to.
      writeEntry(img, sub, 'BAD', '', DIR, 0, 0);
      for (let s = 3; s < 16; s++) writeEntry(img, sub + s * 32, `E${String(s).padStart(2, '0')}`, 'TXT', 0x20, 0, 0);
    });
    await repairAndCheck(path, 'E_FSCK_DOT');
    const files = ['FILE.TXT', ...Array.from({ length: 13 }, (_, k) => `E${String(k + 3).padStart(2, '0')}.TXT`)];
    expect(mdir(path, '::/SUB')).toEqual(files.map((f) => `::/SUB/${f}`).sort());
  });

  it('removes a second volume-label entry whose other attribute bits make fsck.fat read it as a file', async () => {
    const path = build('second-label', (img, _sub, root) => {
      // Root slot 0 holds mkfs.fat's label HOSTILE; slot 2 gets attribute 0x4a (volume + hidden + 0x40), garbage cluster and size.
      writeEntry(img, root + 64, 'STRAY', 'LBL', 0x4a, 0xfff0, 0xffffffff);
    });
    await repairAndCheck(path, 'E_FSCK_LABEL');
    expect(mdir(path, '::/')).toEqual(['::/SUB/']);
    expect(execFileSync('mlabel', ['-i', path, '-s', '::'], { encoding: 'latin1' })).toMatch(/Volume label is HOSTILE/);
  });

  it('clears the start cluster and size of the volume-label entry (fsck.fat checks them as a file\'s)', async () => {
    const path = build('label-cluster', (img, _sub, root) => {
      expect(img.toString('latin1', root, root + 12)).toBe('HOSTILE    \x08');
      img.writeUInt16LE(0x5800, root + 26);
      img.writeUInt32LE(77, root + 28);
    });
    await repairAndCheck(path, 'E_FSCK_LABEL');
    const img = execFileSync('mlabel', ['-i', path, '-s', '::'], { encoding: 'latin1' });
    expect(img).toMatch(/Volume label is HOSTILE/);
    expect(mdir(path, '::/SUB')).toEqual(['::/SUB/FILE.TXT']);
  });

  it("renames a short name holding a '.' (fsck.fat: 'Bad short file name'), keeping the file", async () => {
    const path = build('dot-in-name', (img, sub) => {
      img.write('FI.E    TXT', sub + 64, 11, 'latin1');
    });
    await repairAndCheck(path, 'E_FSCK_BAD_NAME');
    expect(mdir(path, '::/SUB')).toEqual(['::/SUB/FI_E.TXT']);
    expect(execFileSync('mtype', ['-i', path, '::/SUB/FI_E.TXT'], { encoding: 'latin1' })).toBe('0123456789');
  });

  it('empties old entries after the end-of-directory mark', async () => {
    const path = build('after-end', (img, _sub, root) => {
      // Root: SUB, then an end mark, then an old entry claiming cluster 4 (FILE.TXT's).
      writeEntry(img, root + 96, 'OLD', 'TXT', 0x20, 4, 10);
    });
    await repairAndCheck(path, 'E_FSCK_AFTER_END');
    expect(mdir(path, '::/')).toEqual(['::/SUB/']);
    expect(mdir(path, '::/SUB')).toEqual(['::/SUB/FILE.TXT']);
  });
  // Seeds 134, 196, 335, 472, 488 and 680 of scripts/fsck-convergence.js: a flipped byte in the root's label entry.
  it('gives a root label entry damaged with bytes above 0x7F the boot sector\'s label back (fsck.fat rejects such labels)', async () => {
    const path = build('label-oem', (img, _sub, root) => {
      expect(img.toString('latin1', root, root + 11)).toBe('HOSTILE    ');
      img[root + 2] = 0xd3;
    });
    await repairAndCheck(path, 'E_FSCK_LABEL');
    const peer = spawnSync('fsck.fat', ['-n', path], { encoding: 'latin1' });
    expect(peer.stdout).not.toMatch(/Volume label/);
    expect(execFileSync('mlabel', ['-i', path, '-s', '::'], { encoding: 'latin1' })).toMatch(/Volume label is HOSTILE/);
    expect(mdir(path, '::/SUB')).toEqual(['::/SUB/FILE.TXT']);
  });

  it('keeps the root label mlabel wrote with OEM letters (the boot sector copy follows it)', async () => {
    const path = build('label-mlabel', () => {});
    execFileSync('mlabel', ['-i', path, '::Été'], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
    const g = geometry(readFileSync(path));
    const rootLabel = readFileSync(path).subarray(g.rootOffset, g.rootOffset + 11);
    expect(rootLabel.some((b) => b >= 0x80)).toBe(true);
    await diskkit(['fsck', '--repair', path]);
    const after = readFileSync(path);
    expect(after.subarray(g.rootOffset, g.rootOffset + 11).equals(rootLabel)).toBe(true);
    expect(after.subarray(43, 54).equals(rootLabel)).toBe(true);
    expect((await diskkit(['fsck', path])).exitCode).toBe(0);
  });

  // Seed 353: the boot sector's media byte became 0x83; fsck.fat then calls both FATs corrupt.
  it('sets an invalid boot-sector media byte from FAT[0] when every FAT copy agrees on a valid one', async () => {
    const path = build('media-bpb', (img) => {
      expect(img[21]).toBe(0xf8);
      img[21] = 0x83;
    });
    await repairAndCheck(path, 'E_FSCK_MEDIA');
    const img = readFileSync(path);
    expect(img[21]).toBe(0xf8);
    const g = geometry(img);
    for (const at of g.fatOffsets) expect(img.readUInt16LE(at)).toBe(0xfff8);
    expect(execFileSync('mtype', ['-i', path, '::/SUB/FILE.TXT'], { encoding: 'latin1' })).toBe('0123456789');
  });

  /** A FAT32 image from mkfs.fat whose 16-bit BPB field at `offset` (checked to hold `was`) is set to `value`. */
  function fat32WithBpbField(name: string, offset: number, was: number, value: number): string {
    const path = join(dir, name);
    execFileSync('mkfs.fat', ['-F', '32', '-s', '1', '-n', 'HOSTILE', '-C', path, '34000'], { stdio: 'ignore' });
    const img = readFileSync(path);
    expect(img.readUInt16LE(offset)).toBe(was);
    img.writeUInt16LE(value, offset);
    writeFileSync(path, img);
    return path;
  }
  // Seed 449: BPB_BkBootSec became 262 (outside the 32 reserved sectors); the backup is still in sector 6.
  it('points a FAT32 backup-boot-sector field that left the reserved sectors back at sector 6, which holds the backup', async () => {
    const path = fat32WithBpbField('backup-field.img', 50, 6, 262);
    await repairAndCheck(path, 'E_FSCK_BOOT');
    const after = readFileSync(path);
    expect(after.readUInt16LE(50)).toBe(6);
    expect(after.subarray(0, 512).equals(after.subarray(6 * 512, 7 * 512))).toBe(true);
    const peer = spawnSync('fsck.fat', ['-n', path], { encoding: 'latin1' });
    expect(peer.stdout).not.toMatch(/differences between boot sector and its backup/);
  });
  // Seeds 220, 716 and 963: byte 38 (the extended boot signature 0x29) changed; fsck.fat then reads an empty boot label.
  it('writes back a damaged extended boot signature in front of an extended BPB that is still there, then compares the labels', async () => {
    const path = build('ext-signature', (img) => {
      expect(img[38]).toBe(0x29);
      expect(img.toString('latin1', 54, 62)).toBe('FAT16   ');
      img[38] = 0x9b;
      img[50] = 0x22; // the boot label now reads HOSTI"E
    });
    await repairAndCheck(path, 'E_FSCK_BOOT');
    const img = readFileSync(path);
    expect(img[38]).toBe(0x29);
    expect(img.toString('latin1', 43, 54)).toBe('HOSTILE    ');
    const peer = spawnSync('fsck.fat', ['-n', path], { encoding: 'latin1' });
    expect(peer.stdout).not.toMatch(/label/i);
  });
  // Seed 1172: BPB_FSInfo became 16385; fsck.fat then reads a sector without the FSInfo signatures.
  it('points a FAT32 FSInfo field that left the reserved sectors back at sector 1, which holds the FSInfo', async () => {
    const path = fat32WithBpbField('fsinfo-field.img', 48, 1, 16385);
    expect(readFileSync(path).readUInt32LE(512)).toBe(0x41615252);
    await repairAndCheck(path, 'E_FSCK_FSINFO');
    const after = readFileSync(path);
    expect(after.readUInt16LE(48)).toBe(1);
    expect(after.readUInt16LE(6 * 512 + 48)).toBe(1);
    const peer = spawnSync('fsck.fat', ['-n', path], { encoding: 'latin1' });
    expect(peer.stdout).not.toMatch(/FSINFO|differences between boot sector/);
  });
});
