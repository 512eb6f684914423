import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { CartridgeStore } from '../../src/engine/cartridge/store.js';
import { PARALLEL_MIN_BYTES, extentWriterCounts } from '../../src/engine/cartridge/extent-writer.js';
import { Compression, type CompressionId } from '../../src/engine/cartridge/superblock.js';
import { threadBudget } from '../../src/io/thread-budget.js';
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
      const before = extentWriterCounts.workerExtents;
      const parallel = await writeImage(data, compression, '2');
      if (threadBudget() > 1) expect(extentWriterCounts.workerExtents).toBeGreaterThan(before);
      const single = await writeImage(data, compression, '1');
      expect(Buffer.compare(parallel, single)).toBe(0);
    });
  }
});
