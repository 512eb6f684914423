import { describe, it, expect } from 'vitest';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { MemoryBlockSource } from '../../src/io/block-source.js';
import { runBench, type BenchEvent } from '../../src/engine/bench/run-bench.js';
import { randomReadPlan, sliceExtents, walkMetadata } from '../../src/engine/bench/workloads.js';
import type { BenchTarget } from '../../src/engine/bench/target.js';
import type { EntryInfo, Extent, Volume } from '../../src/engine/volume.js';
import { DiskkitError, ErrorCode } from '../../src/engine/errors.js';

/** A tiny in-memory volume: files are lists of extents over one byte array (a model, not a FAT). */
function fakeVolume(bytes: Uint8Array, files: Record<string, Extent[]>): Volume {
  const source = new MemoryBlockSource(bytes, 'fake.img');
  const entry = (path: string, type: 'file' | 'dir', size: number): EntryInfo => ({ path, name: path.split('/').pop()!, shortName: null, type, size, mtime: null, ctime: null, atime: null, attributes: [] });
  const dirs = new Set(['/']);
  for (const p of Object.keys(files)) for (let d = p.slice(0, p.lastIndexOf('/')) || '/'; d !== '/'; d = d.slice(0, d.lastIndexOf('/')) || '/') dirs.add(d);
  const unsupported = () => {
    throw new DiskkitError(ErrorCode.UNSUPPORTED, 'read-only fake');
  };
  return {
    format: 'fake',
    source,
    warnings: [],
    capabilities: { writable: false, formatWritable: false, caseInsensitive: false, shortNames: false, streams: false, hardLinks: false, deletedEntries: false, snapshots: false, encryption: false, rawExtents: true },
    info: () => ({ format: 'fake', totalBytes: bytes.length, freeBytes: 0, usedBytes: bytes.length, label: null, details: [] }),
    stat: (p) => entry(p, dirs.has(p) ? 'dir' : 'file', 0),
    list: (at) => {
      const dir = typeof at === 'string' ? at : at.path;
      const prefix = dir === '/' ? '/' : dir + '/';
      const children = new Set<string>();
      for (const p of [...Object.keys(files), ...dirs]) if (p !== dir && p.startsWith(prefix) && !p.slice(prefix.length).includes('/')) children.add(p);
      return [...children].map((p) => (dirs.has(p) ? entry(p, 'dir', 0) : entry(p, 'file', files[p]!.reduce((s, e) => s + e.length, 0))));
    },
    fileExtents: (p) => files[typeof p === 'string' ? p : p.path]!,
    openFile: () => unsupported(),
    nameKey: (name) => name,
    readFile: () => unsupported(),
    writeFile: unsupported,
    mkdir: unsupported,
    remove: unsupported,
    rename: unsupported,
    commit: () => {},
    close: () => {},
  };
}

describe('bench engine', () => {
  const bytes = randomBytes(600_000);
  const files = {
    '/big.bin': [{ position: 100_000, length: 200_000 }, { position: 10_000, length: 50_000 }],
    '/dir/small.txt': [{ position: 500_000, length: 900 }],
    '/dir/sub/mid.bin': [{ position: 400_000, length: 40_960 }],
  };
  const volume = fakeVolume(bytes, files);
  const target: BenchTarget = { path: '/nonexistent/fake.img', format: 'fat', source: volume.source, volume, note: 'fake', openWritable: null, close: () => {} };

  it('walks every entry and finds each file with its extents', () => {
    const walk = walkMetadata(volume, { collectExtents: true });
    expect(walk.entries).toBe(5); // 3 files + 2 directories
    expect(walk.files.map((f) => f.path).sort()).toEqual(Object.keys(files).sort());
  });

  it('random reads stay inside files, 4 KiB each, on 4 KiB file offsets', () => {
    const walk = walkMetadata(volume, { collectExtents: true });
    const plan = randomReadPlan(walk.files, 300, 7);
    const total = plan.reduce((s, e) => s + e.length, 0);
    expect(total).toBe(300 * 4096);
    const inFile = (e: Extent) => Object.values(files).some((ext) => ext.some((x) => e.position >= x.position && e.position + e.length <= x.position + x.length));
    expect(plan.every(inFile)).toBe(true);
    expect(sliceExtents(files['/big.bin'], 198_000, 4096)).toEqual([{ position: 298_000, length: 2000 }, { position: 10_000, length: 2096 }]);
  });

  it('reports every mode over the largest file with checksums equal to the crc32 of its bytes', async () => {
    const events: BenchEvent[] = [];
    const report = await runBench(target, { modes: ['streaming', 'prefetch', 'pipelined', 'parallel', 'mmap', 'auto'], runs: 2, seconds: 0.2, hash: 'sha256', dropCache: false, workers: 2, onEvent: (e) => events.push(e) });
    const seq = report.workloads.sequentialRead;
    if (seq.status !== 'ran') throw new Error('sequential read skipped');
    const want = crc32(Buffer.concat(files['/big.bin'].map((e) => bytes.subarray(e.position, e.position + e.length)))).toString(16).padStart(8, '0');
    expect(seq.byMode.map((r) => r.checksum)).toEqual(Array(6).fill(want));
    expect(seq.checksumsAgree).toBe(true);
    expect(seq.byMode.filter((r) => r.best)).toHaveLength(1);
    expect(seq.byMode.every((r) => r.rate.runs.length === 2)).toBe(true);
    const random = report.workloads.randomRead;
    expect(random.status === 'ran' && random.checksumsAgree).toBe(true);
    expect(report.workloads.metadataWalk.status === 'ran' && report.workloads.metadataWalk.entries).toBe(5);
    expect(report.workloads.fatCache).toMatchObject({ status: 'skipped' });
    expect(report.workloads.allocation).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/cannot allocate/) });
    expect(events[0]!.type).toBe('start');
    expect(events.filter((e) => e.type === 'row')).toHaveLength(12);
  });
});
