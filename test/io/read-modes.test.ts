import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync, rmSync, readdirSync, readFileSync, statSync, lstatSync, symlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { execa } from 'execa';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { FileBlockSource, MemoryBlockSource, SliceBlockSource, type BlockSource } from '../../src/io/block-source.js';
import { CONCRETE_MODES, scanExtents, scanParallel, type ConcreteMode } from '../../src/io/scan.js';
import { liveWorkerCount, startWorkerPool } from '../../src/io/parallel.js';
import { crc32Combine } from '../../src/io/crc32-combine.js';
import { writeAtomically } from '../../src/io/atomic-output.js';
import { DiskkitError, ErrorCode } from '../../src/engine/errors.js';
import { FileDataBlockSource } from '../../src/io/file-data-source.js';
import type { FileDataSource } from '../../src/engine/volume.js';
import type { Extent } from '../../src/engine/volume.js';

const FIXTURES = new URL('../fixtures/io/', import.meta.url);
const SIZE = 300_000;
let dir: string;
let bytes: Buffer;
let file: FileBlockSource;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'diskkit-io-'));
  bytes = randomBytes(SIZE);
  writeFileSync(join(dir, 'image.bin'), bytes);
  file = FileBlockSource.open(join(dir, 'image.bin'));
});
afterAll(() => {
  file.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The model: what reading the extents must give, straight from the bytes written. */
function expected(source: Uint8Array, extents: Extent[]): Buffer {
  return Buffer.concat(extents.map((e) => source.subarray(e.position, e.position + e.length)));
}

async function readAll(source: BlockSource, extents: Extent[], mode: ConcreteMode, chunkSize: number, workers: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let expectedOffset = 0;
  await scanExtents(
    source,
    extents,
    (chunk, logicalOffset) => {
      if (logicalOffset !== expectedOffset) throw new Error(`chunk at ${logicalOffset}, expected ${expectedOffset}`);
      expectedOffset += chunk.length;
      parts.push(Buffer.from(chunk));
    },
    { mode, chunkSize, workers, depth: mode === 'parallel' ? undefined : 3 },
  );
  return Buffer.concat(parts);
}

const extentArb = (size: number) =>
  fc.integer({ min: 0, max: size - 1 }).chain((position) => fc.integer({ min: 0, max: Math.min(size - position, 70_000) }).map((length) => ({ position, length })));

describe('read modes', () => {
  it('every mode returns the same bytes as the model for random extents and chunk sizes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(extentArb(SIZE), { minLength: 0, maxLength: 6 }), fc.integer({ min: 1, max: 80_000 }), fc.integer({ min: 1, max: 2 }), async (extents, chunkSize, workers) => {
        const want = expected(bytes, extents);
        for (const mode of CONCRETE_MODES) {
          const got = await readAll(file, extents, mode, chunkSize, workers);
          expect(got.equals(want), `${mode} chunk ${chunkSize}`).toBe(true);
        }
      }),
      { numRuns: 12 },
    );
  });

  it('reads through a partition slice (non-zero base offset) and from memory identically in every mode', async () => {
    const slice = new SliceBlockSource(file, 4097, 200_000);
    const memory = new MemoryBlockSource(bytes.subarray(4097, 204_097));
    const extents = [{ position: 10, length: 150_000 }, { position: 7, length: 3 }, { position: 199_990, length: 10 }];
    const want = expected(bytes.subarray(4097), extents);
    for (const mode of CONCRETE_MODES) {
      expect((await readAll(slice, extents, mode, 4096 * 3 + 5, 2)).equals(want), `${mode} slice`).toBe(true);
      expect((await readAll(memory, extents, mode, 65_536, 2)).equals(want), `${mode} memory`).toBe(true);
    }
  });

  it('a past-end extent raises E_SHORT_READ in every mode, before any chunk is delivered', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: SIZE }), fc.integer({ min: 1, max: 5000 }), async (position, over) => {
        const extents = [{ position: 0, length: 100 }, { position, length: SIZE - position + over }];
        for (const mode of CONCRETE_MODES) {
          let delivered = 0;
          const error = await scanExtents(file, extents, () => void delivered++, { mode, workers: 1 }).catch((e: unknown) => e);
          expect(error, mode).toBeInstanceOf(DiskkitError);
          expect((error as DiskkitError).code, mode).toBe('E_SHORT_READ');
          expect(delivered, mode).toBe(0);
        }
      }),
      { numRuns: 5 },
    );
  });

  it('a consumer may change chunks in place in every mode (the MFT parser does) without touching the image', async () => {
    const path = join(dir, 'mutable.bin');
    writeFileSync(path, bytes);
    const source = FileBlockSource.open(path);
    try {
      for (const mode of CONCRETE_MODES) {
        let seen = 0;
        await scanExtents(source, [{ position: 0, length: SIZE }], (chunk) => {
          seen += chunk.length;
          chunk.fill(0xee);
        }, { mode, chunkSize: 64 * 1024 });
        expect(seen, mode).toBe(SIZE);
      }
    } finally {
      source.close();
    }
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('auto reports the mode it picked and why', async () => {
    const r = await scanExtents(file, [{ position: 0, length: SIZE }], () => {}, { mode: 'auto' });
    expect(r.requestedMode).toBe('auto');
    expect(CONCRETE_MODES).toContain(r.mode);
    expect(r.autoReason).toMatch(/small scan/);
  });

  it('collects read statistics: bytes, read calls, latency percentiles, a place for cache counters', async () => {
    const r = await scanExtents(file, [{ position: 0, length: SIZE }], () => {}, { mode: 'prefetch', chunkSize: 10_000, caches: () => ({ fat: { hits: 3, misses: 1 } }) });
    expect(r.stats.bytesRead).toBe(SIZE);
    expect(r.chunks).toBe(30);
    expect(r.stats.readCalls).toBeGreaterThanOrEqual(30);
    expect(r.stats.chunkLatencyMs.count).toBe(30);
    expect(r.stats.chunkLatencyMs.p50).toBeLessThanOrEqual(r.stats.chunkLatencyMs.p99);
    expect(r.stats.queue.capacity).toBe(1);
    expect(r.stats.caches).toEqual({ fat: { hits: 3, misses: 1 } });
  });
});

/** A format's reader as the model describes it: bytes of a buffer, a short read throws, every call counted. */
function modelReader(data: Uint8Array, calls: { n: number }): FileDataSource {
  return {
    size: data.length,
    read(buf, length, position) {
      calls.n++;
      if (position < 0 || position + length > data.length) throw new DiskkitError(ErrorCode.SHORT_READ, 'past the end');
      buf.set(data.subarray(position, position + length));
    },
  };
}

describe('file data read through a format reader (no raw extents)', () => {
  it('every mode reads one file through its reader chunk by chunk and gives its bytes', async () => {
    const data = bytes.subarray(1234, 1234 + 250_001);
    for (const mode of CONCRETE_MODES) {
      const calls = { n: 0 };
      const { source, extents } = FileDataBlockSource.ofFile('reader', modelReader(data, calls));
      const got = await readAll(source, extents, mode, 10_007, 2);
      expect(got.equals(data), mode).toBe(true);
      // chunk by chunk: one reader call per chunk, never the whole file at once
      expect(calls.n, mode).toBe(Math.ceil(data.length / 10_007));
    }
  });

  it('several files laid end to end (empty ones among them) read as their concatenation in every mode, for random extents', async () => {
    const sizes = [0, 70_000, 1, 0, 99_999, 13, 0];
    let at = 0;
    const parts = sizes.map((size) => bytes.subarray(at, (at += size)));
    const source = new FileDataBlockSource('files', parts.map((p) => ({ size: p.length, open: () => modelReader(p, { n: 0 }) })));
    const whole = Buffer.concat(parts);
    expect(source.size).toBe(whole.length);
    await fc.assert(
      fc.asyncProperty(fc.array(extentArb(whole.length), { maxLength: 5 }), fc.integer({ min: 1, max: 50_000 }), async (extents, chunkSize) => {
        const want = expected(whole, extents);
        for (const mode of CONCRETE_MODES) expect((await readAll(source, extents, mode, chunkSize, 2)).equals(want), `${mode} chunk ${chunkSize}`).toBe(true);
      }),
      { numRuns: 6 },
    );
  });

  it('a reader that fails (damaged data) fails the scan with its own code in every mode', async () => {
    const broken: FileDataSource = { size: 50_000, read: (_b, _l, position) => { if (position >= 20_000) throw new DiskkitError(ErrorCode.CORRUPT, 'bad compression unit'); } };
    for (const mode of CONCRETE_MODES) {
      const { source, extents } = FileDataBlockSource.ofFile('broken', broken);
      const error = await scanExtents(source, extents, () => {}, { mode, chunkSize: 8192, workers: 2 }).catch((e: unknown) => e);
      expect((error as DiskkitError).code, mode).toBe('E_CORRUPT');
    }
  });

  it('auto picks streaming for a large reader-backed file and says why', async () => {
    const big: FileDataSource = { size: 64 << 20, read: () => {} };
    const { source, extents } = FileDataBlockSource.ofFile('big', big);
    const r = await scanExtents(source, extents, () => {}, { mode: 'auto' });
    expect([r.mode, r.autoReason]).toEqual(['streaming', expect.stringMatching(/reader/)]);
  });
});

describe('scanParallel (per-chunk work in a worker module)', () => {
  const sumWorker = new URL('sum-worker.mjs', FIXTURES);

  it.each(CONCRETE_MODES)('merges worker results in logical order (%s)', async (mode) => {
    const extents = [{ position: 5, length: 120_000 }, { position: 200_000, length: 33_333 }];
    const flat = expected(bytes, extents);
    const seen: { logicalOffset: number; length: number; sum: number }[] = [];
    await scanParallel<{ logicalOffset: number; length: number; sum: number }>(file, extents, { mode, workerModule: sumWorker, chunkSize: 9_999, workers: 2 }, (r, index, logicalOffset) => {
      expect(index).toBe(seen.length);
      expect(r.logicalOffset).toBe(logicalOffset);
      seen.push(r);
    });
    let offset = 0;
    for (const r of seen) {
      expect(r.logicalOffset).toBe(offset);
      expect(r.sum).toBe(flat.subarray(offset, offset + r.length).reduce((a, b) => a + b, 0));
      offset += r.length;
    }
    expect(offset).toBe(flat.length);
  });

  async function sums(options: { pool?: ReturnType<typeof startWorkerPool>; mode?: ConcreteMode; workers?: number; signal?: AbortSignal }): Promise<number[]> {
    const out: number[] = [];
    await scanParallel<{ sum: number }>(file, [{ position: 0, length: SIZE }], { workerModule: sumWorker, chunkSize: 7_000, workers: 2, ...options }, (r) => void out.push(r.sum));
    return out;
  }

  it('workers started ahead (startWorkerPool) run the scan with the same results, and stop after it', async () => {
    const fresh = await sums({});
    const pool = startWorkerPool(2, sumWorker);
    expect(liveWorkerCount()).toBe(2);
    expect(await sums({ pool })).toEqual(fresh);
    expect(pool.served).toBe(true);
    expect(liveWorkerCount()).toBe(0);
  });

  it('a pool that does not fit the scan (other worker count, other mode) is closed and the scan still runs', async () => {
    const fresh = await sums({});
    const pool3 = startWorkerPool(3, sumWorker);
    expect(await sums({ pool: pool3, workers: 2 })).toEqual(fresh);
    const poolStreaming = startWorkerPool(2, sumWorker);
    expect(await sums({ pool: poolStreaming, mode: 'streaming' })).toEqual(fresh);
    expect([pool3.served, poolStreaming.served]).toEqual([false, false]);
    await Promise.all([pool3.close(), poolStreaming.close()]);
    expect(liveWorkerCount()).toBe(0);
  });

  it('a scan cancelled before it starts still ends the pool it was given', async () => {
    const pool = startWorkerPool(2, sumWorker);
    const controller = new AbortController();
    controller.abort();
    const error = await sums({ pool, signal: controller.signal }).catch((e: unknown) => e);
    expect((error as DiskkitError).code).toBe('E_CANCELLED');
    expect(liveWorkerCount()).toBe(0);
  });

  it('an unused pool closes without running anything', async () => {
    const pool = startWorkerPool(2, new URL('throwing-worker.mjs', FIXTURES));
    await pool.close();
    expect(liveWorkerCount()).toBe(0);
  });

  it('CRCs computed per chunk in workers combine into zlib.crc32 of the whole stream', async () => {
    // workers cannot load .ts: the built module is used (run `npx tsc -p .` first)
    const { builtModuleUrl } = await import('../../src/io/parallel.js');
    const url = builtModuleUrl('./workers/chunk-digest.js', new URL('../../src/io/parallel.ts', import.meta.url).href);
    expect(url.href).toMatch(/dist\/io\/workers\/chunk-digest\.js$|src\/io\/workers\/chunk-digest\.js$/);
    let crc = 0;
    await scanParallel<{ crc32: number; length: number }>(file, [{ position: 0, length: SIZE }], { workerModule: url, chunkSize: 12_345, workers: 2 }, (r) => {
      crc = crc32Combine(crc, r.crc32, r.length);
    });
    expect(crc).toBe(crc32(bytes));
  });

  it('an error thrown in a worker rejects with E_WORKER carrying its message, and all workers stop', async () => {
    const error = await scanParallel(file, [{ position: 0, length: SIZE }], { workerModule: new URL('throwing-worker.mjs', FIXTURES), workerData: { failAt: 150_000 }, chunkSize: 10_000, workers: 2 }, () => {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiskkitError);
    expect((error as DiskkitError).code).toBe('E_WORKER');
    expect((error as DiskkitError).message).toContain('bad record at byte 150000');
    expect(liveWorkerCount()).toBe(0);
  });

  it('the same module failing on the main thread (streaming) is E_WORKER too', async () => {
    const error = await scanParallel(file, [{ position: 0, length: SIZE }], { mode: 'streaming', workerModule: new URL('throwing-worker.mjs', FIXTURES), workerData: { failAt: 7 } }, () => {}).catch((e: unknown) => e);
    expect((error as DiskkitError).code).toBe('E_WORKER');
    expect((error as DiskkitError).message).toContain('bad record at byte 7');
  });

  it('a module without process() is reported as a worker start failure', async () => {
    const error = await scanParallel(file, [{ position: 0, length: SIZE }], { workerModule: new URL('../helpers/oracle.ts', import.meta.url).href.replace(/\.ts$/, '.missing.mjs'), workers: 1 }, () => {}).catch((e: unknown) => e);
    expect((error as DiskkitError).code).toBe('E_WORKER');
    expect(liveWorkerCount()).toBe(0);
  });
});

describe('cancellation', () => {
  it('aborting a parallel scan mid-way rejects with E_CANCELLED promptly and terminates the workers', async () => {
    const controller = new AbortController();
    let merged = 0;
    setTimeout(() => controller.abort(), 150);
    const error = await scanParallel(file, [{ position: 0, length: SIZE }], { workerModule: new URL('slow-worker.mjs', FIXTURES), workerData: { ms: 40 }, chunkSize: 1000, workers: 2, signal: controller.signal }, () => void merged++).catch((e: unknown) => e);
    expect((error as DiskkitError).code).toBe('E_CANCELLED');
    // 300 chunks at 40 ms on 2 workers would take 6 s; the abort lands well before
    // (a scan that ignored it would also run into the test's timeout)
    expect(merged).toBeLessThan(300);
    expect(liveWorkerCount()).toBe(0);
  });

  it.each(CONCRETE_MODES)('aborting mid-scan rejects with E_CANCELLED and leaves no output file (%s)', async (mode) => {
    const out = mkdtempSync(join(dir, 'out-'));
    const controller = new AbortController();
    let chunks = 0;
    const error = await writeAtomically(
      join(out, 'copy.bin'),
      (o) =>
        scanExtents(
          file,
          [{ position: 0, length: SIZE }],
          (chunk) => {
            o.write(chunk);
            if (++chunks === 5) controller.abort();
          },
          { mode, chunkSize: 4096, workers: 2, signal: controller.signal },
        ),
      { signal: controller.signal },
    ).catch((e: unknown) => e);
    expect((error as DiskkitError).code).toBe('E_CANCELLED');
    expect(chunks).toBeLessThan(SIZE / 4096);
    expect(readdirSync(out)).toEqual([]);
    expect(liveWorkerCount()).toBe(0);
  });

  it('a completed atomic write leaves exactly the destination', async () => {
    const out = mkdtempSync(join(dir, 'ok-'));
    await writeAtomically(join(out, 'copy.bin'), (o) => scanExtents(file, [{ position: 0, length: SIZE }], (c) => o.write(c), { mode: 'pipelined' }));
    expect(readdirSync(out)).toEqual(['copy.bin']);
  });

  it('a device or pipe destination is written as it is, never replaced by a file', async () => {
    const out = mkdtempSync(join(dir, 'fifo-'));
    // Through a link in the test's own directory: an implementation that renamed over
    // the destination would replace the link, never /dev/null itself.
    const devLink = join(out, 'null-link');
    symlinkSync('/dev/null', devLink);
    await writeAtomically(devLink, (o) => o.write(bytes.subarray(0, 1000)));
    expect(lstatSync(devLink).isSymbolicLink()).toBe(true);
    expect(statSync(devLink).isCharacterDevice()).toBe(true);
    rmSync(devLink);
    const fifo = join(out, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const reader = execa('cat', [fifo], { encoding: 'buffer' });
    await writeAtomically(fifo, (o) => o.write(bytes.subarray(0, 5000)));
    expect(Buffer.compare((await reader).stdout as Uint8Array, bytes.subarray(0, 5000))).toBe(0);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(readdirSync(out)).toEqual(['pipe']);
  });

  // mknod needs root; the node is a private copy of /dev/full, so a regression deletes only the copy.
  it.runIf(process.getuid?.() === 0)('in place on a device (cp to /dev/full): a failed write is reported and the device is left alone', async () => {
    const out = mkdtempSync(join(dir, 'dev-'));
    const full = join(out, 'full');
    execFileSync('mknod', [full, 'c', '1', '7']);
    const error = await writeAtomically(full, (o) => o.write(bytes.subarray(0, 100)), { inPlace: true, durable: false }).catch((e: unknown) => e);
    expect((error as DiskkitError).message).toMatch(/no space|ENOSPC/i);
    expect(statSync(full).isCharacterDevice()).toBe(true);
  });

  it('a symbolic link to a file is written through: the link stays, the file it names is replaced', async () => {
    const out = mkdtempSync(join(dir, 'link-'));
    writeFileSync(join(out, 'target.bin'), 'old');
    symlinkSync('target.bin', join(out, 'link.bin'));
    await writeAtomically(join(out, 'link.bin'), (o) => o.write(bytes.subarray(0, 777)));
    expect(lstatSync(join(out, 'link.bin')).isSymbolicLink()).toBe(true);
    expect(Buffer.compare(readFileSync(join(out, 'target.bin')), bytes.subarray(0, 777))).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['link.bin', 'target.bin']);
  });
});

describe('crc32Combine', () => {
  it('equals zlib.crc32 of the concatenation for random splits', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.uint8Array({ maxLength: 3000 }), (a, b) => {
        expect(crc32Combine(crc32(a), crc32(b), b.length)).toBe(crc32(Buffer.concat([a, b])));
      }),
      { numRuns: 200 },
    );
  });
});
