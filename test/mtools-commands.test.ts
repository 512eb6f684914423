/**
 * attrib, label, chain and du against their mtools counterparts (mattrib, mlabel /
 * minfo, mshowfat, mdu) on the committed FAT12 fixture and on FAT32 images mkfs.fat
 * made. Every image diskkit changed must pass fsck.fat -n.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, diskkit } from './helpers/cli.js';
import { requireTools } from './helpers/oracle.js';
import { expectFsckClean, makeImage } from './helpers/fat-write.js';

const HAVE = requireTools('mkfs.fat', 'fsck.fat', 'mattrib', 'mlabel', 'minfo', 'mshowfat', 'mdu', 'mdir', 'mcopy', 'mmd');
const FAT12 = fileURLToPath(new URL('../fixtures/fat12.img', import.meta.url));
const MENV = { ...process.env, MTOOLS_SKIP_CHECK: '1', MTOOLSRC: '/dev/null', TZ: 'UTC' };
let work = '';
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dk-mtools-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function mtools(tool: string, args: string[]): string {
  return execFileSync(tool, args, { env: MENV, encoding: 'utf8' });
}

function copyOf(src: string, name: string): string {
  const img = join(work, name);
  copyFileSync(src, img);
  return img;
}

/** Every path in the image, as `mdir -/ -b -a` lists it (without '::'). */
function allPaths(img: string): string[] {
  return mtools('mdir', ['-i', img, '-/', '-b', '-a', '::/']).split('\n').filter((l) => l.startsWith('::/') && !/\/\.\.?$/.test(l)).map((l) => l.slice(2));
}

/** mattrib -/ of the whole image as a map path -> attribute letters (A S H R). */
function mattribAll(img: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of mtools('mattrib', ['-i', img, '-/', '::/']).split('\n')) {
    const m = /^ {2}(.) {2}(.)(.)(.) {5}::(\/.*)$/.exec(line);
    if (m) out.set(m[5]!, [m[1], m[2], m[3], m[4]].join('').replace(/ /g, ''));
  }
  return out;
}

/** diskkit's attribute names in mattrib's letters. */
function letters(attributes: string[]): string {
  return [['archive', 'A'], ['system', 'S'], ['hidden', 'H'], ['readonly', 'R']].filter(([n]) => attributes.includes(n!)).map(([, l]) => l).join('');
}

describe.runIf(HAVE)('attrib (mattrib)', () => {
  it('lists the attributes mattrib shows, for every entry of the fixture', async () => {
    const r = await diskkit(['--json', 'attrib', `${FAT12}:/`, '-/']);
    expect(r.exitCode, r.stderr).toBe(0);
    const ours = new Map((JSON.parse(r.stdout) as { path: string; attributes: string[] }[]).map((e) => [e.path, letters(e.attributes)]));
    const theirs = mattribAll(FAT12);
    expect(theirs.size).toBeGreaterThan(200);
    // mtools shows characters outside the BMP as '__'; compare the rest path by path.
    const comparable = [...theirs.keys()].filter((p) => !p.includes('X__'));
    expect(new Map(comparable.map((p) => [p, ours.get(p)]))).toEqual(new Map(comparable.map((p) => [p, theirs.get(p)])));
    const text = await diskkit(['attrib', `${FAT12}:/readonly.txt`, `${FAT12}:/hidden.txt`]);
    expect(text.stdout).toBe(mtools('mattrib', ['-i', FAT12, '::/readonly.txt', '::/hidden.txt']).replaceAll('::/', '/').trimEnd());
  });

  it('sets and clears attributes as mattrib then reads them, and fsck.fat stays clean', async () => {
    const img = copyOf(FAT12, 'attrib.img');
    const expected = mattribAll(img);
    const set = async (args: string[]) => {
      const r = await diskkit(['attrib', ...args]);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toBe('');
    };
    await set([`${img}:/UPPER.TXT`, '+r', '+h', '-a', `${img}:/lower.txt`]);
    await set([`${img}:/readonly.txt`, '-r', '+s']);
    await set([`${img}:/deep`, '+h']);
    await set([`${img}:/sizes`, '-/', '+rh']);
    const apply = (path: string, add: string, drop: string) => {
      const now = new Set(expected.get(path)!.split(''));
      for (const c of add) now.add(c);
      for (const c of drop) now.delete(c);
      expected.set(path, ['A', 'S', 'H', 'R'].filter((c) => now.has(c)).join(''));
    };
    apply('/UPPER.TXT', 'RH', 'A');
    apply('/lower.txt', 'RH', 'A');
    apply('/readonly.txt', 'S', 'R');
    apply('/deep', 'H', '');
    for (const p of expected.keys()) if (p === '/sizes' || p.startsWith('/sizes/')) apply(p, 'RH', '');
    expect(mattribAll(img)).toEqual(expected);
    expectFsckClean(img);
  });

  it('-X prints what mattrib -X prints', async () => {
    const r = await diskkit(['attrib', '-X', '-/', `${FAT12}:/`]);
    expect(r.exitCode, r.stderr).toBe(0);
    const utf8 = execFileSync('mattrib', ['-i', FAT12, '-X', '-/', '::/'], { env: { ...MENV, LC_ALL: 'C.UTF-8' }, encoding: 'utf8' });
    const theirs = utf8.split('\n').filter((l) => l.includes('::/')).map((l) => l.replace(' ::/', ' /'));
    expect(theirs.length).toBeGreaterThan(200);
    // mtools shows characters outside the BMP as '__'.
    const ours = r.stdout.split('\n').filter((l) => l.length > 0);
    const comparable = (lines: string[]) => lines.filter((l) => !l.includes('X__') && !/[\u{10000}-\u{10ffff}]/u.test(l)).sort();
    expect(comparable(ours)).toEqual(comparable(theirs));
  });

  it('-p prints commands that put back every attribute after changes', async () => {
    const img = copyOf(FAT12, 'attrib-replay.img');
    const before = mattribAll(img);
    const replay = await diskkit(['attrib', '-p', '-/', `${img}:/`]);
    expect(replay.exitCode, replay.stderr).toBe(0);
    const lines = replay.stdout.trim().split('\n');
    // One command per entry; the root has no attributes to put back.
    expect(lines.length).toBe(before.size - 1);
    for (const [args] of [[['+r', '+s', '+h']], [['-a']]] as const) {
      expect((await diskkit(['attrib', '-/', `${img}:/deep`, `${img}:/UPPER.TXT`, ...args])).exitCode).toBe(0);
    }
    expect(mattribAll(img)).not.toEqual(before);
    const script = join(work, 'replay.sh');
    writeFileSync(script, `diskkit() { node '${BIN}' "$@"; }\n${lines.filter((l) => l.includes(':/deep') || l.includes(':/UPPER.TXT')).join('\n')}\n`);
    execFileSync('bash', [script], { env: MENV });
    expect(mattribAll(img)).toEqual(before);
    expectFsckClean(img);
  });

  it('refuses unknown letters and a missing path, and changes nothing else', async () => {
    const img = copyOf(FAT12, 'attrib-bad.img');
    const before = mattribAll(img);
    const bad = await diskkit(['attrib', `${img}:/UPPER.TXT`, '+x']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/^diskkit: .*unknown attribute 'x'/m);
    const missing = await diskkit(['attrib', `${img}:/nope.txt`, `${img}:/lower.txt`, '+h']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/no such file or directory \(path \/nope\.txt\)/);
    before.set('/lower.txt', 'AH');
    expect(mattribAll(img)).toEqual(before);
    expectFsckClean(img);
  });
});

describe.runIf(HAVE)('label (mlabel, minfo)', () => {
  const bootLabel = (img: string): string => /disk label="(.*)"/.exec(mtools('minfo', ['-i', img, '::']))![1]!;
  const mlabelShow = (img: string): string => mtools('mlabel', ['-i', img, '-s', '::']).trim();

  for (const kind of ['fixture12', 'fat32', 'fat16-nolabel'] as const) {
    it(`sets, shows and clears the label in the root entry and the boot sector (${kind})`, async () => {
      const img = kind === 'fixture12' ? copyOf(FAT12, 'label12.img') : makeImage(work, kind === 'fat32' ? 'fat32' : 'fat16', `label-${kind}.img`);
      const shown = await diskkit(['label', img]);
      expect(shown.stdout.trim()).toBe(mlabelShow(img));
      const set = await diskkit(['label', img, 'New Label']);
      expect(set.exitCode, set.stderr).toBe(0);
      expect(mlabelShow(img)).toBe('Volume label is NEW LABEL');
      expect(bootLabel(img)).toBe('NEW LABEL  ');
      expect((await diskkit(['label', img])).stdout).toBe('Volume label is NEW LABEL');
      expectFsckClean(img);
      const again = await diskkit(['label', `${img}:`, 'SECOND']);
      expect(again.exitCode, again.stderr).toBe(0);
      expect(mlabelShow(img)).toBe('Volume label is SECOND');
      const cleared = await diskkit(['label', '-c', img]);
      expect(cleared.exitCode, cleared.stderr).toBe(0);
      expect(mlabelShow(img)).toBe('Volume has no label');
      expect(bootLabel(img)).toBe('NO NAME    ');
      expectFsckClean(img);
      if (kind === 'fat32') {
        // fsck.fat compares the backup boot sector: it must carry the same label bytes.
        const bytes = execFileSync('dd', [`if=${img}`, 'bs=512', 'count=7', 'status=none']);
        expect(bytes.subarray(6 * 512 + 71, 6 * 512 + 82).toString('latin1')).toBe('NO NAME    ');
      }
    });
  }

  it('refuses a bad label and leaves the image as it was', async () => {
    const img = copyOf(FAT12, 'label-bad.img');
    const r = await diskkit(['label', img, 'A*B']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^diskkit: .*invalid volume label/m);
    expect(mlabelShow(img)).toBe('Volume label is FIXTURE12');
  });
});

describe.runIf(HAVE)('chain (mshowfat)', () => {
  it('prints every chain of the fixture as mshowfat does', async () => {
    const paths = allPaths(FAT12).filter((p) => !p.includes('X__'));
    const r = await diskkit(['chain', ...paths.map((p) => `${FAT12}:${p}`)]);
    expect(r.exitCode, r.stderr).toBe(0);
    const theirs = mtools('mshowfat', ['-i', FAT12, ...paths.map((p) => `::${p}`)])
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.slice(2).replace(' Root directory or empty file', ' (no clusters: empty file or fixed root directory)'));
    expect(r.stdout.split('\n').filter((l) => l !== '')).toEqual(theirs);
    expect(theirs.some((l) => (l.match(/</g) ?? []).length >= 4)).toBe(true);
  });

  it('reports a chain that loops instead of hanging', async () => {
    const img = copyOf(FAT12, 'loop.img');
    // /UPPER.TXT is cluster 6 (see the fixture); point cluster 6 at itself in FAT copy 1.
    const fatStart = 512;
    const buf = execFileSync('dd', [`if=${img}`, 'bs=1', `skip=${fatStart + 9}`, 'count=2', 'status=none']);
    buf[0] = 0x06;
    buf[1] = (buf[1]! & 0xf0) | 0x00;
    spawnSync('dd', [`of=${img}`, 'bs=1', `seek=${fatStart + 9}`, 'conv=notrunc', 'status=none'], { input: buf });
    const r = await diskkit(['chain', `${img}:/UPPER.TXT`, `${img}:/lower.txt`]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^diskkit: .*loops back to cluster 6/m);
    expect(r.stdout).toMatch(/^\/lower\.txt <\d+>$/m);
  });
});

describe.runIf(HAVE)('du (mdu)', () => {
  it('agrees with mdu -a on a FAT32 image, in clusters, and gives bytes as clusters × cluster size', async () => {
    const img = makeImage(work, 'fat32', 'du32.img');
    const host = join(work, 'du-tree');
    execFileSync('mkdir', ['-p', `${host}/a/b/c`, `${host}/e`]);
    writeFileSync(`${host}/top.bin`, Buffer.alloc(5000, 1));
    writeFileSync(`${host}/a/one.bin`, Buffer.alloc(513, 2));
    writeFileSync(`${host}/a/b/c/deep.bin`, Buffer.alloc(70000, 3));
    for (let i = 0; i < 40; i++) writeFileSync(`${host}/a/b/file with a long name ${i}.txt`, `x${i}`);
    const cp = await diskkit(['cp', '-r', `${host}/.`, `${img}:/`]);
    expect(cp.exitCode, cp.stderr).toBe(0);
    const ours = await diskkit(['du', '-a', `${img}:/`]);
    expect(ours.exitCode, ours.stderr).toBe(0);
    const rows = ours.stdout.trim().split('\n').map((l) => l.split('\t'));
    const theirs = mtools('mdu', ['-i', img, '-a', '::/']).trim().split('\n').map((l) => /^::(.*) (\d+)$/.exec(l)!.slice(1));
    expect(rows.map(([c, , p]) => [p, c])).toEqual(theirs);
    for (const [c, b] of rows) expect(Number(b)).toBe(Number(c) * 512);
    const s = await diskkit(['du', '-s', `${img}:/a`]);
    expect(s.stdout).toBe(`${theirs.find(([p]) => p === '/a')![1]}\t${Number(theirs.find(([p]) => p === '/a')![1]) * 512}\t/a`);
  });

  it('a directory pointing back at its ancestor is reported, and the rest is still counted', async () => {
    const img = copyOf(FAT12, 'du-loop.img');
    const clusterOf = (p: string): number => Number(/<(\d+)/.exec(mtools('mshowfat', ['-i', img, `::${p}`]))![1]);
    const l1 = clusterOf('/deep/l1');
    const deep = clusterOf('/deep');
    // FAT12 fixture: 1 reserved + 2 FATs of 3 + 14 root sectors, then 2048-byte clusters.
    const at = 21 * 512 + (l1 - 2) * 2048;
    const b = readFileSync(img);
    const slot = [...Array(64).keys()].map((i) => at + i * 32).find((o) => b.toString('latin1', o, o + 11) === 'L2         ')!;
    b.writeUInt16LE(deep, slot + 26);
    writeFileSync(img, b);
    const r = await diskkit(['du', img]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^diskkit: .*points back at its ancestor \/deep/m);
    expect(r.stdout).toMatch(/^\d+\t\d+\t\/sizes$/m);
    expect(r.stdout).toMatch(/^\d+\t\d+\t\/$/m);
  });

  it('agrees with mdu on the FAT12 fixture, except for the directories mdu leaves out under a fixed root', async () => {
    const ours = await diskkit(['du', FAT12]);
    expect(ours.exitCode, ours.stderr).toBe(0);
    const got = new Map(ours.stdout.trim().split('\n').map((l) => l.split('\t')).map(([c, , p]) => [p!, Number(c)]));
    // mdu does not count the clusters of a directory right under the FAT12/16 root: add them back, from mshowfat.
    const dirClusters = (p: string): number => {
      const runs = mtools('mshowfat', ['-i', FAT12, `::${p}`]).match(/<(\d+)(?:-(\d+))?>/g) ?? [];
      return runs.reduce((n, r) => { const [a, b] = r.slice(1, -1).split('-').map(Number); return n + (b === undefined ? 1 : b - a! + 1); }, 0);
    };
    const expected = new Map<string, number>();
    const topDirs: string[] = [];
    for (const line of mtools('mdu', ['-i', FAT12, '::/']).trim().split('\n')) {
      const [, p, c] = /^::(.*) (\d+)$/.exec(line)!;
      expected.set(p!, Number(c));
      if (/^\/[^/]+$/.test(p!)) topDirs.push(p!);
    }
    let added = 0;
    for (const p of topDirs) {
      const own = dirClusters(p);
      added += own;
      expected.set(p, expected.get(p)! + own);
      for (const [q, c] of expected) if (q.startsWith(p + '/')) expected.set(q, c);
    }
    expected.set('/', expected.get('/')! + added);
    expect(got).toEqual(expected);
  });
});

describe.runIf(HAVE)('ls -w, -b, -s (mdir)', () => {
  /** mdir's "N files  M bytes" and "F bytes free" lines, digits only. */
  const mdirSummary = (args: string[]): { files: number; bytes: number; free: number } => {
    const text = mtools('mdir', ['-i', FAT12, ...args]);
    const m = /(\d+) files?\s+([\d ]+) bytes\n\s+([\d ]+) bytes free/.exec(text)!;
    return { files: Number(m[1]), bytes: Number(m[2]!.replace(/ /g, '')), free: Number(m[3]!.replace(/ /g, '')) };
  };

  for (const dir of ['/', '/sizes', '/frag', '/Empty Directory']) {
    it(`-s counts what mdir -a counts in ${dir}`, async () => {
      const r = await diskkit(['ls', '-s', '-a', `${FAT12}:${dir}`]);
      expect(r.exitCode, r.stderr).toBe(0);
      const lines = r.stdout.split('\n');
      const m = /^(\d+) files?, (\d+) bytes?$/.exec(lines[lines.length - 2]!)!;
      const free = /^(\d+) bytes free$/.exec(lines[lines.length - 1]!)!;
      expect({ files: Number(m[1]), bytes: Number(m[2]), free: Number(free[1]) }).toEqual(mdirSummary(['-a', `::${dir}`]));
    });
  }

  it('-w puts the names of mdir -w in columns, directories in brackets, and ends with the summary', async () => {
    const r = await diskkit(['ls', '-w', `${FAT12}:/frag/fillers`]);
    expect(r.stdout).toBe('filler1.bin  filler3.bin  filler5.bin  filler7.bin\n4 files, 16384 bytes\n1003520 bytes free'.replace('1003520', String(mdirSummary(['::/']).free)));
    const root = await diskkit(['ls', '-w', FAT12]);
    const cells = root.stdout.split('\n').slice(0, -2).flatMap((l) => l.split(/ {2,}/)).filter((c) => c !== '');
    expect(cells.filter((c) => c.startsWith('['))).toEqual(['[Empty Directory]', '[deep]', '[frag]', '[many]', '[sizes]']);
    expect(cells.length).toBe(mdirSummary(['::/']).files);
  });

  it('-b -R -a lists the paths mdir -/ -b -a lists', async () => {
    const r = await diskkit(['ls', '-b', '-R', '-a', FAT12]);
    expect(r.exitCode, r.stderr).toBe(0);
    const theirs = mtools('mdir', ['-i', FAT12, '-/', '-b', '-a', '::/']).split('\n').filter((l) => l.startsWith('::/') && !l.includes('X__')).map((l) => l.slice(2));
    const ours = r.stdout.split('\n').filter((l) => l !== '' && !/\/\.\.?\/$/.test(l) && !l.includes('X\u{1F600}'));
    expect(ours.sort()).toEqual(theirs.sort());
  });
});

describe.runIf(HAVE)('cp -v and cp -p', () => {
  it('-p keeps attributes inside the image, maps read-only to and from host permissions; -v names each copy', async () => {
    const img = copyOf(FAT12, 'cp-p.img');
    const within = await diskkit(['cp', '-p', '-v', `${img}:/hidden.txt`, `${img}:/readonly.txt`, `${img}:/deep`]);
    expect(within.exitCode, within.stderr).toBe(0);
    expect(within.stdout).toBe(`'${img}:/hidden.txt' -> '${img}:/deep/hidden.txt'\n'${img}:/readonly.txt' -> '${img}:/deep/readonly.txt'`);
    const plain = await diskkit(['cp', `${img}:/hidden.txt`, `${img}:/plain-copy.txt`]);
    expect(plain.exitCode, plain.stderr).toBe(0);
    const host = join(work, 'cp-p-host');
    execFileSync('mkdir', ['-p', host]);
    writeFileSync(join(host, 'locked.txt'), 'nobody writes me');
    execFileSync('chmod', ['444', join(host, 'locked.txt')]);
    writeFileSync(join(host, 'open.txt'), 'anyone');
    const into = await diskkit(['cp', '-p', join(host, 'locked.txt'), join(host, 'open.txt'), `${img}:/`]);
    expect(into.exitCode, into.stderr).toBe(0);
    const attrs = mattribAll(img);
    expect([attrs.get('/deep/hidden.txt'), attrs.get('/deep/readonly.txt'), attrs.get('/plain-copy.txt'), attrs.get('/locked.txt'), attrs.get('/open.txt')]).toEqual(['AH', 'AR', 'A', 'AR', 'A']);
    expectFsckClean(img);
    const out = join(work, 'cp-p-out');
    execFileSync('mkdir', ['-p', out]);
    const outward = await diskkit(['cp', '-p', '-v', `${img}:/readonly.txt`, `${img}:/UPPER.TXT`, out]);
    expect(outward.exitCode, outward.stderr).toBe(0);
    expect(outward.stdout.split('\n')).toEqual([`'${img}:/readonly.txt' -> '${join(out, 'readonly.txt')}'`, `'${img}:/UPPER.TXT' -> '${join(out, 'UPPER.TXT')}'`]);
    const { statSync } = await import('node:fs');
    expect([statSync(join(out, 'readonly.txt')).mode & 0o222, statSync(join(out, 'UPPER.TXT')).mode & 0o200]).toEqual([0, 0o200]);
  });
});
