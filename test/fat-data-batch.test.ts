/**
 * Small files' data gathered into one image write (engine/fat/data-write-batch.ts):
 * what reaches the image, in which writes, and what happens when such a write fails.
 * The batch against a recording source (each write's position and bytes, compared with
 * the bytes written one by one); the volume against mtools and fsck.fat: files written
 * through the batch read back byte for byte, and a batch write that fails while files
 * are still being added leaves the image as it was, with no journal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTools } from './helpers/oracle.js';
import { expectFsckClean, makeImage, MENV, mtoolsTree } from './helpers/fat-write.js';
import { DataWriteBatch, DATA_BATCH_BYTES } from '../src/engine/fat/data-write-batch.js';
import { openVolume } from '../src/engine/open-volume.js';
import { journalPathFor, setJournalSync } from '../src/engine/journal/index.js';
import type { BlockSource, FileBlockSource } from '../src/io/block-source.js';

const HAVE = requireTools('mkfs.fat', 'fsck.fat', 'mcopy', 'mdir');
let work = '';
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dk-batch-'));
  setJournalSync(false);
});
afterAll(() => {
  setJournalSync(true);
  rmSync(work, { recursive: true, force: true });
});

/** A source that records each write (a copy of its bytes) into a sparse image held as a Map of bytes. */
function recordingSource(): { source: BlockSource; writes: { position: number; length: number }[]; image: Map<number, number> } {
  const writes: { position: number; length: number }[] = [];
  const image = new Map<number, number>();
  const source = {
    writeAt(buf: Uint8Array, offset: number, length: number, position: number) {
      writes.push({ position, length });
      for (let i = 0; i < length; i++) image.set(position + i, buf[offset + i]!);
    },
  } as unknown as BlockSource;
  return { source, writes, image };
}

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe('DataWriteBatch', () => {
  it('gathers pieces that follow each other (with their slack) into one write, and writes the same bytes as one by one', () => {
    const { source, writes, image } = recordingSource();
    const batch = new DataWriteBatch(source);
    const expected = new Map<number, number>();
    let at = 4096;
    for (let i = 0; i < 20; i++) {
      const data = bytes(300 + i * 17, i);
      const slack = 512 - data.length % 512;
      batch.write(data, 0, data.length, at, slack);
      data.forEach((b, k) => expected.set(at + k, b));
      for (let k = 0; k < slack; k++) expected.set(at + data.length + k, 0);
      at += data.length + slack;
    }
    expect(writes).toEqual([]);
    batch.flush();
    expect(writes).toEqual([{ position: 4096, length: at - 4096 }]);
    expect(image).toEqual(expected);
  });

  it('runs over a gap only of directory clusters, stops at others, and writes big pieces directly after what waits', () => {
    const { source, writes } = recordingSource();
    // Cluster 2 at byte 0, 512-byte clusters: cluster 6 (bytes 2048..2560) is a directory's.
    const batch = new DataWriteBatch(source, { dataStart: 0, clusterBytes: 512 });
    batch.noteDirectoryClusters([{ start: 6, count: 1 }]);
    batch.write(bytes(512, 1), 0, 512, 1536); // ends at 2048
    batch.write(bytes(512, 2), 0, 512, 2560); // gap 2048..2560: fillable
    batch.write(bytes(512, 3), 0, 512, 4096); // gap 3072..4096: not
    batch.write(bytes(DATA_BATCH_BYTES / 2, 4), 0, DATA_BATCH_BYTES / 2, 8192); // big: direct
    expect(writes).toEqual([
      { position: 1536, length: 1536 },
      { position: 4096, length: 512 },
      { position: 8192, length: DATA_BATCH_BYTES / 2 },
    ]);
  });

  it('a directory cluster freed again, or written back, is no longer run over', () => {
    for (const forget of ['freed', 'written back'] as const) {
      const { source, writes } = recordingSource();
      const batch = new DataWriteBatch(source, { dataStart: 0, clusterBytes: 512 });
      batch.noteDirectoryClusters([{ start: 6, count: 1 }]);
      if (forget === 'freed') batch.forgetCluster(6);
      else batch.forgetDirectoryClusters();
      batch.write(bytes(512, 1), 0, 512, 1536);
      batch.write(bytes(512, 2), 0, 512, 2560);
      batch.flush();
      expect(writes).toEqual([
        { position: 1536, length: 512 },
        { position: 2560, length: 512 },
      ]);
    }
  });

  it('a failed write is remembered: every later write and flush throws it, nothing more reaches the image', () => {
    const { source, writes } = recordingSource();
    const failing = Object.assign(Object.create(source) as BlockSource, {
      writeAt: () => {
        throw new Error('injected EIO');
      },
    });
    const batch = new DataWriteBatch(failing);
    batch.write(bytes(100, 1), 0, 100, 0);
    expect(() => batch.write(bytes(100, 2), 0, 100, 4096)).toThrow(/injected EIO/);
    expect(() => batch.write(bytes(100, 3), 0, 100, 8192)).toThrow(/injected EIO/);
    expect(() => batch.flush()).toThrow(/injected EIO/);
    expect(writes).toEqual([]);
  });
});

describe.runIf(HAVE)('the volume writes small files through the batch', () => {
  const mdir = (img: string) => spawnSync('mdir', ['-/', '-a', '-i', img, '::/'], { encoding: 'utf8', env: MENV }).stdout;

  it('files interleaved with growing directories, a removed directory and reused clusters read back through mtools', async () => {
    const dir = join(work, 'readback');
    mkdirSync(dir);
    // FAT12 floppy: 512-byte clusters, few of them, so removed clusters are soon reused.
    const img = makeImage(dir, 'fat12');
    const expected = new Map<string, Buffer | null>();
    const volume = await openVolume(img, { writable: true });
    for (const d of ['a', 'b', 'c']) {
      volume.mkdir(`/${d}`);
      expected.set(`${d}/`, null);
      const files = d === 'b' ? 200 : 40;
      for (let i = 0; i < files; i++) {
        const data = Buffer.from(bytes(d === 'b' ? 1000 + i : 1 + ((i * 211) % 1400), i));
        volume.writeFile(`/${d}/file number ${i}.bin`, data);
        expected.set(`${d}/file number ${i}.bin`, data);
      }
    }
    // b's clusters (its directory's and its files'), freed by the removal.
    const freed = new Set<number>();
    for (const entry of [volume.stat('/b'), ...volume.list('/b')]) for (const run of volume.clusterChain!(entry)) for (let c = run.start; c < run.start + run.count; c++) freed.add(c);
    volume.remove('/b', { recursive: true });
    for (const key of [...expected.keys()]) if (key.startsWith('b/')) expected.delete(key);
    // Fill most of the volume, so allocation wraps round into b's freed clusters.
    const reused = new Set<number>();
    for (let i = 0; i < 1080; i++) {
      const data = Buffer.from(bytes(700 + (i % 300), i + 7));
      const info = volume.writeFile(`/c/more ${i}.bin`, data);
      for (const run of volume.clusterChain!(info)) for (let c = run.start; c < run.start + run.count; c++) if (freed.has(c)) reused.add(c);
      expected.set(`c/more ${i}.bin`, data);
    }
    expect(reused.size).toBeGreaterThan(100);
    volume.commit();
    volume.close();
    expectFsckClean(img);
    const out = join(dir, 'out');
    mkdirSync(out);
    expect(mtoolsTree(img, out)).toEqual(new Map([...expected].sort(([x], [y]) => (x < y ? -1 : 1))));
  });

  it('a batch write that fails while files are still being added: the commit rolls back, the image is as before', async () => {
    const dir = join(work, 'fail');
    mkdirSync(dir);
    for (const k of [1, 2]) {
      const img = makeImage(dir, 'fat32', `f${k}.img`);
      const before = mdir(img);
      const volume = await openVolume(img, { writable: true });
      const source = volume.source as FileBlockSource;
      const write = source.writeAt.bind(source);
      let calls = 0;
      let failed = false;
      let added = 0;
      volume.mkdir('/docs');
      // From here on the k-th image write fails: a batch flush while files are still being added.
      source.writeAt = (buf, offset, length, position) => {
        if (++calls === k) throw Object.assign(new Error('injected EIO'), { code: 'EIO' });
        write(buf, offset, length, position);
      };
      try {
        // 2 MiB of small files: the batch must flush while files are still being added.
        for (let i = 0; i < 800; i++) {
          volume.writeFile(`/docs/a long name ${i}.txt`, Buffer.alloc(3000, i));
          added++;
        }
      } catch (error) {
        failed = true;
        expect(String(error)).toMatch(/injected EIO/);
      }
      expect({ failed, beforeTheEnd: added < 800 }).toEqual({ failed: true, beforeTheEnd: true });
      // Files before the failure are in their directory already: none of them may be committed.
      expect(() => volume.writeFile('/docs/after.txt', Buffer.alloc(10))).toThrow(/injected EIO/);
      expect(() => volume.commit()).toThrow(/injected EIO/);
      volume.close();
      expect(existsSync(journalPathFor(img))).toBe(false);
      expect(mdir(img)).toBe(before);
      expectFsckClean(img);
    }
  });
});
