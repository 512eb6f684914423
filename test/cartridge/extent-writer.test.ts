import { describe, expect, it } from 'vitest';
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { importHostTree } from '../../src/engine/cartridge/bulk-import.js';
import { nextDataOffset } from '../../src/io/seek-data.js';
import { CartridgeStore } from '../../src/engine/cartridge/store.js';
import { PARALLEL_MIN_BYTES } from '../../src/engine/cartridge/extent-writer.js';
import { codecPoolCounts } from '../../src/engine/cartridge/codec-pool.js';
import { Compression, type CompressionId } from '../../src/engine/cartridge/superblock.js';
import { threadBudget } from '../../src/io/thread-budget.js';
import { forceLz4Backend } from '../../src/engine/cartridge/lz4-native.js';
import { patternBytes, scratchDir } from './scratch.js';

const nextPath = scratchDir('extent-writer');

/** Text, noise and zeros in 1 MiB blocks (lz4 halves the text, stores the noise raw, skips the zeros), and a ragged tail. */
function mixedFile(): Uint8Array {
  const mib = 1 << 20;
  const data = new Uint8Array(PARALLEL_MIN_BYTES + 3 * mib + 12_345);
  const text = new TextEncoder().encode('the quick brown fox 0123 jumps over the lazy dog\n'.repeat(30_000));
  for (let i = 0; i * mib < data.length; i++) {
    const kind = i % 4;
    if (kind === 3) continue;
    const block = kind === 1 ? patternBytes(mib, i + 1) : text.subarray(i * 7, i * 7 + mib);
    data.set(block.subarray(0, Math.min(mib, data.length - i * mib)), i * mib);
  }
  return data;
}

async function writeImage(data: Uint8Array, compression: CompressionId, threads: string): Promise<Uint8Array> {
  const saved = process.env.DISKKIT_THREADS;
  process.env.DISKKIT_THREADS = threads;
  try {
    const path = nextPath();
    const store = CartridgeStore.create(path, { compression, invariantMs: 1000, nowMs: 1000 });
    store.writeFileFrom('/big.bin', { size: data.length, read: (buf, length, position) => buf.set(data.subarray(position, position + length)) });
    store.commit();
    store.close();
    const reader = CartridgeStore.open(path);
    const back = await reader.readFile('/big.bin');
    reader.close();
    expect(Buffer.compare(back, data)).toBe(0);
    return readFileSync(path);
  } finally {
    if (saved === undefined) delete process.env.DISKKIT_THREADS;
    else process.env.DISKKIT_THREADS = saved;
  }
}

describe('extent writer', () => {
  for (const [name, compression] of [['lz4', Compression.LZ4], ['zstd', Compression.ZSTD]] as const) {
    it(`${name}: a large file written with the compression worker reads back and is the same image as one written on one thread`, async () => {
      const data = mixedFile();
      const single = await writeImage(data, compression, '1');
      // The worker takes queued jobs as it can: while it starts, or when a loaded machine
      // deschedules it, a whole write may finish on the main thread. So write until it has
      // taken a job (at most 20 writes); every image must be the one-thread image.
      const before = codecPoolCounts.workerJobs;
      for (let i = 0; i < 20 && codecPoolCounts.workerJobs === before; i++) {
        expect(Buffer.compare(await writeImage(data, compression, '2'), single)).toBe(0);
      }
      if (threadBudget() > 1) expect(codecPoolCounts.workerJobs).toBeGreaterThan(before);
    });
  }

  it('lz4: a thread whose codec differs (C library vs lz4-block.ts) leaves the job to the queueing thread, so the image is still the same as on one thread', async () => {
    const data = mixedFile();
    const withC = await writeImage(data, Compression.LZ4, '1');
    forceLz4Backend('js'); // this thread only: the worker keeps the C library
    try {
      const single = await writeImage(data, Compression.LZ4, '1');
      // Until the worker has taken a job (see above), at most 20 writes, each the one-thread image.
      const before = codecPoolCounts.rerunJobs;
      for (let i = 0; i < 20 && codecPoolCounts.rerunJobs === before; i++) {
        expect(Buffer.compare(await writeImage(data, Compression.LZ4, '2'), single)).toBe(0);
      }
      if (threadBudget() > 1) expect(codecPoolCounts.rerunJobs).toBeGreaterThan(before);
      // The two codecs write different (equally valid) blocks: a mixed image would differ from both.
      expect(Buffer.compare(single, withC)).not.toBe(0);
    } finally {
      forceLz4Backend(null);
    }
  });
});

describe('sparse sources', () => {
  it('skips the holes a source reports without reading them, and reads back zeros there', async () => {
    const mib = 1 << 20;
    const size = 40 * mib + 5;
    const dataAt = [0, 17 * mib + 100, 40 * mib - 3];
    const reads: [number, number][] = [];
    const byteAt = (i: number) => (dataAt.some((d) => i >= d && i < d + 1000) ? (i * 7) % 251 || 1 : 0);
    const source = {
      size,
      read(buf: Uint8Array, length: number, position: number) {
        reads.push([position, length]);
        for (let i = 0; i < length; i++) buf[i] = byteAt(position + i);
      },
      nextData(position: number) {
        const next = dataAt.find((d) => d + 1000 > position);
        return next === undefined ? size : Math.max(position, next);
      },
    };
    const path = nextPath();
    const store = CartridgeStore.create(path, { compression: Compression.LZ4 });
    store.writeFileFrom('/sparse.bin', source);
    store.commit();
    // Only the three extents that hold data were read.
    expect(reads.map(([position]) => position)).toEqual([0, 17 * mib, 39 * mib, 40 * mib]);
    const back = await store.readFile('/sparse.bin');
    store.close();
    expect(back.length).toBe(size);
    for (const i of [0, 999, 1000, 17 * mib + 99, 17 * mib + 100, 17 * mib + 1099, 30 * mib, 40 * mib - 3, 40 * mib + 4]) expect(back[i], `byte ${i}`).toBe(byteAt(i));
  });

  it('a bulk import (mkfs --from, cp -r into an empty image) does not read a host file\'s holes either', async () => {
    const gib = 1 << 30;
    const host = `${nextPath()}.tree`;
    mkdirSync(host);
    const sparse = join(host, 'sparse.bin');
    const fd = openSync(sparse, 'w+');
    const marks: [number, string][] = [[0, 'start'], [gib / 2 + 12_345, 'middle'], [gib - 3, 'end']];
    try {
      ftruncateSync(fd, gib);
      for (const [at, text] of marks) writeSync(fd, Buffer.from(text), 0, text.length, at);
      // Where SEEK_DATA is not available every byte is read; what is asserted below needs it.
      if (nextDataOffset(fd, 0, gib) === null) {
        expect(process.env.CI).not.toBe('true');
        return;
      }
    } finally {
      closeSync(fd);
    }
    // The kernel's count of bytes this process read (threads included): the holes would add 1 GiB.
    const bytesRead = () => Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
    const path = nextPath();
    const store = CartridgeStore.create(path, { compression: Compression.LZ4 });
    const before = bytesRead();
    const result = importHostTree(store, host, { mtimeOf: (mtimeMs) => mtimeMs });
    const read = bytesRead() - before;
    store.commit();
    expect(result.errors).toEqual([]);
    expect(read).toBeLessThan(64 << 20);
    const back = await store.readFile('/sparse.bin');
    store.close();
    expect(back.length).toBe(gib);
    for (const [at, text] of marks) expect(Buffer.from(back.subarray(at, at + text.length)).toString()).toBe(text);
    expect(back.subarray(gib / 2, gib / 2 + 12_345).every((b) => b === 0)).toBe(true);
  }, 60_000);

  it('finds a host file\'s data with SEEK_DATA', () => {
    const path = nextPath();
    const fd = openSync(path, 'w+');
    try {
      ftruncateSync(fd, 64 << 20);
      writeSync(fd, new Uint8Array(4096).fill(1), 0, 4096, 32 << 20);
      const at = nextDataOffset(fd, 0, 64 << 20);
      // null only where the binding does not load; where it does, the hole before the data is skipped.
      if (at !== null) {
        expect(at).toBeGreaterThan(0);
        expect(at).toBeLessThanOrEqual(32 << 20);
        expect(nextDataOffset(fd, (32 << 20) + 4096, 64 << 20)).toBe(64 << 20);
      } else expect(process.env.CI).not.toBe('true');
    } finally {
      closeSync(fd);
    }
  });
});
