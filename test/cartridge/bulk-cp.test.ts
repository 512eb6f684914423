/**
 * `cp -r HOST_DIR IMAGE:/DEST` into an empty Cartridge goes through the bulk import
 * (catalog built bottom-up, host files read on a second thread by io/host-tree-reader.ts).
 * The oracle is the entry-by-entry copy the same command makes into an image that is not
 * empty: both must give the same files, bytes, times and reports, over a hostile host
 * tree (a link, a FIFO, a name that is not UTF-8, spaces and non-ASCII in a name, files on every
 * storage path: empty, inline, packed, one extent through the reader's slots, streamed).
 * A copy SIGKILLed part-way leaves the empty image or the whole tree. The reader itself
 * is checked against an independent walk of the same tree.
 */
import { execFileSync, spawn } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HandOver, HostTreeReader, RecordKind } from '../../src/io/host-tree-reader.js';
import { BIN, diskkit } from '../helpers/cli.js';
import { readHostTree } from '../helpers/fat-write.js';

let dir = '';
let src = '';
/** The regular files and directories a copy must hold (the link, the FIFO and the bad name excluded). */
let expected = new Map<string, string | null>();

function bytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = 97 + ((x >>> 24) % 20);
  }
  return out;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dk-bulk-cp-'));
  src = join(dir, 'src');
  mkdirSync(join(src, 'b', 'deep', 'deeper'), { recursive: true });
  mkdirSync(join(src, 'a-empty-dir'));
  writeFileSync(join(src, 'empty'), '');
  writeFileSync(join(src, 'tiny'), 'x');
  writeFileSync(join(src, 'sp ace & ünï €'), bytes(300, 1));
  for (let i = 0; i < 30; i++) writeFileSync(join(src, 'b', `f${String(i).padStart(2, '0')}`), bytes(200 + i * 997, i + 2));
  writeFileSync(join(src, 'b', 'deep', 'one-extent.bin'), bytes(200_000, 40));
  writeFileSync(join(src, 'b', 'deep', 'deeper', 'streamed.bin'), bytes(700_000, 41));
  // More than the reader's eight slots hold (one of these each), so it must wait for the copy to free them.
  for (let i = 0; i < 24; i++) writeFileSync(join(src, 'b', 'deep', `mid${i}`), bytes(240_000, 50 + i));
  expected = digests(readHostTree(src));
  symlinkSync('tiny', join(src, 'link'));
  execFileSync('mkfifo', [join(src, 'fifo')]);
  // A name that is not UTF-8 (Linux names are bytes).
  writeFileSync(Buffer.concat([Buffer.from(src + '/bad-'), Buffer.from([0xff, 0xfe])]), 'bad');
  for (const p of ['tiny', 'b', 'b/deep', '.']) utimesSync(join(src, p), 1_500_000_000, 1_500_000_000);
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function freshImage(name: string, compress: string, prefill = false): Promise<string> {
  const image = join(dir, name);
  rmSync(image, { force: true });
  expect((await diskkit(['mkfs', image, '--type', 'cartridge', '--compress', compress])).exitCode).toBe(0);
  // A directory made first: the image is not empty, so cp takes the entry-by-entry path.
  if (prefill) expect((await diskkit(['mkdir', `${image}:/prefill`])).exitCode).toBe(0);
  return image;
}

/** A tree as path → "length sha256" (deep equality on megabytes of Buffers takes minutes). */
function digests(tree: Map<string, Buffer | null>): Map<string, string | null> {
  return new Map([...tree].map(([p, data]) => [p, data === null ? null : `${data.length} ${createHash('sha256').update(data).digest('hex')}`]));
}

async function readBack(image: string, path: string): Promise<Map<string, string | null>> {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}`);
  const r = await diskkit(['cp', '-r', `${image}:${path}`, out]);
  expect(r.stderr).toBe('');
  const tree = digests(readHostTree(out));
  rmSync(out, { recursive: true, force: true });
  return tree;
}

interface CpDoc {
  files: number;
  directories: number;
  bytes: number;
  written: { path: string; type: string; size: number }[];
  skipped: { path: string }[];
  errors: { path: string; code: string }[];
}

describe('cp -r into an empty cartridge (bulk import) against the entry-by-entry copy', () => {
  for (const compress of ['none', 'zstd']) {
    it(`${compress}: same files, bytes, reports and times; links and FIFOs skipped, the non-UTF-8 name an E_BAD_NAME error; fsck clean`, async () => {
      const bulk = await freshImage(`bulk-${compress}.cart`, compress);
      const entry = await freshImage(`entry-${compress}.cart`, compress, true);
      const env = { SOURCE_DATE_EPOCH: '1600000000' };
      const [b, e] = await Promise.all([
        diskkit(['--json', 'cp', '-r', `${src}/.`, `${bulk}:/`], { env }),
        diskkit(['--json', 'cp', '-r', `${src}/.`, `${entry}:/prefill`], { env }),
      ]);
      expect(b.exitCode).toBe(1);
      expect(e.exitCode).toBe(1);
      const bd = JSON.parse(String(b.stdout)) as CpDoc;
      const ed = JSON.parse(String(e.stdout)) as CpDoc;
      expect({ files: bd.files, directories: bd.directories, bytes: bd.bytes }).toEqual({ files: ed.files, directories: ed.directories, bytes: ed.bytes });
      expect(bd.files).toBe([...expected.values()].filter((v) => v !== null).length);
      const norm = (doc: CpDoc, prefix: string) => doc.written.map((w) => `${w.type} ${w.path.slice(prefix.length) || '/'} ${w.size}`).sort();
      expect(norm(bd, '')).toEqual(norm(ed, '/prefill'));
      expect(bd.skipped.map((s) => s.path)).toEqual([join(src, 'link')]);
      // The FIFO is an error in both; the entry-by-entry copy cannot even reach the bad name (E_NOT_FOUND), the bulk copy names it.
      expect(bd.errors.map((x) => `${x.code} ${x.path.slice(src.length)}`).sort()).toEqual([`E_BAD_NAME /bad-\ufffd\ufffd`, 'E_UNSUPPORTED /fifo']);
      expect(ed.errors.map((x) => x.path.slice(src.length)).sort()).toEqual(['/bad-\ufffd\ufffd', '/fifo']);

      const [bulkTree, entryTree] = await Promise.all([readBack(bulk, '/'), readBack(entry, '/prefill')]);
      expect(bulkTree).toEqual(expected);
      expect(entryTree).toEqual(expected);
      // Times: clamped to SOURCE_DATE_EPOCH alike (the host's own where older).
      const [lb, le] = await Promise.all([diskkit(['ls', '-R', '--json', bulk]), diskkit(['ls', '-R', '--json', `${entry}:/prefill`])]);
      const times = (out: unknown, prefix: string) => (JSON.parse(String(out)) as { path: string; mtime: string }[]).map((x) => `${x.path.slice(prefix.length)} ${x.mtime}`).sort();
      expect(times(lb.stdout, '')).toEqual(times(le.stdout, '/prefill'));
      expect(times(lb.stdout, '')).toContain(`/tiny ${new Date(1_500_000_000_000).toISOString()}`);
      const fsck = await diskkit(['fsck', bulk]);
      expect(fsck.exitCode).toBe(0);
    }, 300_000);
  }

  it('cp -r DIR IMAGE:/ makes /DIR, cp -r DIR IMAGE:/NEW makes /NEW; a link is a warning on stderr', async () => {
    const [one, two] = await Promise.all([freshImage('into-root.cart', 'lz4'), freshImage('into-new.cart', 'lz4')]);
    const [r1, r2] = await Promise.all([diskkit(['cp', '-r', join(src, 'b'), `${one}:/`]), diskkit(['cp', '-r', join(src, 'b'), `${two}:/new`])]);
    expect([r1.exitCode, r2.exitCode]).toEqual([0, 0]);
    const sub = new Map([...expected].filter(([p]) => p.startsWith('b/') && p !== 'b/').map(([p, v]) => [p.slice(2), v]));
    expect(await readBack(one, '/b')).toEqual(sub);
    expect(await readBack(two, '/new')).toEqual(sub);
    expect((await diskkit(['ls', one])).stdout).toBe('b/');
    const all = await diskkit(['cp', '-r', `${src}/.`, `${await freshImage('warn.cart', 'lz4')}:/`]);
    expect(all.stderr).toMatch(/warning: .*\/link: symbolic link not copied/);
    expect(all.stderr).toMatch(/fifo/);
  }, 300_000);
});

describe('a bulk cp -r SIGKILLed part-way', () => {
  it('leaves the image empty (the old state) or holding the whole tree, fsck clean, at every kill', async () => {
    const image = join(dir, 'killed.cart');
    const outcomes: string[] = [];
    // Kills spread over the run: during start-up, while the tree streams in, near the commit.
    for (const delayMs of [60, 150, 250, 400, 600, 900]) {
      await freshImage('killed.cart', 'none');
      const child = spawn(process.execPath, [BIN, 'cp', '-r', `${src}/b/.`, `${image}:/`], { stdio: 'ignore' });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      child.kill('SIGKILL');
      const code = await exited;
      const fsck = await diskkit(['fsck', image]);
      expect(fsck.exitCode, fsck.stdout + fsck.stderr).toBe(0);
      const listing = await diskkit(['ls', image]);
      if (listing.stdout === '') outcomes.push('old');
      else {
        const sub = new Map([...expected].filter(([p]) => p.startsWith('b/') && p !== 'b/').map(([p, v]) => [p.slice(2), v]));
        expect(await readBack(image, '/')).toEqual(sub);
        outcomes.push(code === null ? 'new' : 'finished');
      }
    }
    expect(outcomes.length).toBe(6);
  }, 600_000);
});

describe('HostTreeReader', () => {
  /** Every way files reach this thread: read on the reader's thread, or handed over unread (UNREAD records). */
  const HAND_OVERS = [
    ['as it chooses', HandOver.WHEN_WAITING],
    ['all read by the thread', HandOver.NEVER],
    ['all handed over unread', HandOver.ALWAYS],
  ] as const;

  // Files are read on the reader's thread, or on this one when the thread hands them over
  // (UNREAD records, while this thread waits): every way must give the same records.
  it.each(HAND_OVERS)('gives every entry breadth first, names in byte order, each file with its bytes, size and mtime (files %s)', (_, handOver) => {
    // The model: an independent breadth-first walk with lstat.
    const model: string[] = [];
    const queue = [src];
    for (let q = 0; q < queue.length; q++) {
      model.push('begin');
      const names = readdirSync(queue[q]!, { encoding: 'buffer' }).sort(Buffer.compare);
      for (const raw of names) {
        const name = raw.toString('utf8');
        const full = Buffer.concat([Buffer.from(queue[q]! + '/'), raw]);
        const st = lstatSync(full);
        if (!Buffer.from(name).equals(raw)) model.push(`bad ${name}`);
        else if (st.isDirectory()) {
          queue.push(join(queue[q]!, name));
          model.push(`dir ${name} ${statSync(join(queue[q]!, name)).mtimeMs}`);
        } else if (st.isSymbolicLink()) model.push(`link ${name}`);
        else if (st.isFIFO()) model.push(`other ${name}`);
        else {
          const data = readFileSync(join(queue[q]!, name));
          model.push(`${data.length > 256 * 1024 ? 'big' : 'file'} ${name} ${data.length} ${statSync(join(queue[q]!, name)).mtimeMs} ${data.length > 256 * 1024 ? '' : createHash('sha256').update(data).digest('hex')}`);
        }
      }
    }
    const reader = HostTreeReader.start(src, { handOver });
    const got: string[] = [];
    try {
      expect(reader.next()).toBe(true);
      expect(reader.kind).toBe(RecordKind.ROOT);
      expect(reader.mtimeMs).toBe(statSync(src).mtimeMs);
      while (reader.next()) {
        const k = reader.kind as number;
        if (k === RecordKind.DIR_BEGIN) got.push('begin');
        else if (k === RecordKind.DIRECTORY) got.push(`dir ${reader.name} ${reader.mtimeMs}`);
        else if (k === RecordKind.FILE) got.push(`file ${reader.name} ${reader.size} ${reader.mtimeMs} ${createHash('sha256').update(reader.data).digest('hex')}`);
        else if (k === RecordKind.BIG_FILE) got.push(`big ${reader.name} ${reader.size} ${reader.mtimeMs} `);
        else if (k === RecordKind.SYMLINK) got.push(`link ${reader.name}`);
        else if (k === RecordKind.OTHER) got.push(`other ${reader.name}`);
        else if (k === RecordKind.BAD_NAME) got.push(`bad ${reader.name}`);
        else got.push(`unexpected ${k} ${reader.name}`);
      }
    } finally {
      reader.close();
    }
    expect(got).toEqual(model);
  }, 60_000);

  // readFiles (cp -r into FAT): the caller's list of paths, read in its order, one record each.
  it.each(HAND_OVERS)('readFiles gives one record per listed path, in order, with bytes and times, links and missing files as errors (files %s)', (_, handOver) => {
    const paths: string[] = [];
    const queue = [src];
    for (let q = 0; q < queue.length; q++) {
      for (const raw of readdirSync(queue[q]!, { encoding: 'buffer' }).sort(Buffer.compare)) {
        // (A path given as a string is UTF-8: a name that is not cannot be listed.)
        const name = raw.toString('utf8');
        if (!Buffer.from(name).equals(raw)) continue;
        const full = join(queue[q]!, name);
        if (lstatSync(full).isDirectory()) queue.push(full);
        else paths.push(full);
      }
    }
    paths.splice(1, 0, join(src, 'no such file'));
    // The model: each path read and stat'ed here (after the read, which may move the access time).
    const model = paths.map((path) => {
      let st;
      try {
        st = lstatSync(path);
      } catch {
        return 'error open ENOENT';
      }
      if (st.isSymbolicLink()) return 'error open ELOOP';
      if (!st.isFile()) return 'other';
      const data = readFileSync(path);
      st = statSync(path);
      if (data.length > 256 * 1024) return `big ${data.length} ${st.mtimeMs}`;
      return `file ${data.length} ${st.mtimeMs} ${st.atimeMs} ${st.birthtimeMs} ${createHash('sha256').update(data).digest('hex')}`;
    });
    const reader = HostTreeReader.readFiles(paths, { handOver });
    const got: string[] = [];
    try {
      while (reader.next()) {
        const k = reader.kind as number;
        if (k === RecordKind.FILE) got.push(`file ${reader.size} ${reader.mtimeMs} ${reader.atimeMs} ${reader.birthtimeMs} ${createHash('sha256').update(reader.data).digest('hex')}`);
        else if (k === RecordKind.BIG_FILE) got.push(`big ${reader.size} ${reader.mtimeMs}`);
        else if (k === RecordKind.OTHER) got.push('other');
        else if (k === RecordKind.ERROR) got.push(`error ${reader.error.action} ${reader.error.code}`);
        else got.push(`unexpected ${k}`);
      }
    } finally {
      reader.close();
    }
    expect(model.filter((m) => m.startsWith('file')).length).toBeGreaterThan(3);
    expect(model).toContain('error open ELOOP');
    expect(got).toEqual(model);
  }, 60_000);
});

describe('host times below the millisecond', () => {
  it('are truncated to the millisecond as the kernel keeps them, the same through cp -r (bulk), mkfs --from and cp of one file', async () => {
    const tree = mkdtempSync(join(dir, 'subms-'));
    // .25 ms and .75 ms past a second (rounding would give .001), and 0.4 ms before a whole second (rounding would change the second).
    const times: Record<string, number> = { early: 1_700_000_000.00025, late: 1_700_000_000.00075, later: 1_700_000_123.4567, edge: 1_700_000_022.9996 };
    for (const [name, t] of Object.entries(times)) {
      writeFileSync(join(tree, name), name);
      utimesSync(join(tree, name), t, t);
    }
    // The expectation is the kernel's nanosecond time of each file, cut to the millisecond.
    const want = Object.keys(times).map((name) => `/${name} ${new Date(Number(statSync(join(tree, name), { bigint: true }).mtimeNs / 1_000_000n)).toISOString()}`).sort();
    expect(want).toContain('/edge 2023-11-14T22:13:42.999Z');
    const bulk = await freshImage('subms-bulk.cart', 'none');
    const fromTree = join(dir, 'subms-from.cart');
    const single = await freshImage('subms-single.cart', 'none');
    expect((await diskkit(['cp', '-r', `${tree}/.`, `${bulk}:/`])).exitCode).toBe(0);
    expect((await diskkit(['mkfs', fromTree, '--type', 'cartridge', '--from', tree, '-q'])).exitCode).toBe(0);
    for (const name of Object.keys(times)) expect((await diskkit(['cp', join(tree, name), `${single}:/${name}`])).exitCode).toBe(0);
    for (const image of [bulk, fromTree, single]) {
      const listed = JSON.parse(String((await diskkit(['ls', '--json', `${image}:/`])).stdout)) as { path: string; mtime: string }[];
      expect(listed.map((e) => `${e.path} ${e.mtime}`).sort(), image).toEqual(want);
    }
  });
});
