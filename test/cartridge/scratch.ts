/** Temporary directories for cartridge tests, removed after each file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { CartridgeStore } from '../../src/engine/cartridge/store.js';
import type { CompressionId } from '../../src/engine/cartridge/superblock.js';

export function scratchDir(prefix: string): () => string {
  const dir = mkdtempSync(join(tmpdir(), `dk-cart-${prefix}-`));
  let n = 0;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return () => join(dir, `image-${n++}.cart`);
}

/** A fixed-seed byte pattern (not random, so the same bytes each run). */
export function patternBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const MIB = 1 << 20;

/** `length` bytes: text (lz4 halves it), noise (stored raw) and zeros (a hole), 1 MiB each in turn. */
export function mixedExtentsSample(length: number): Uint8Array {
  const data = new Uint8Array(length);
  const text = new TextEncoder().encode('offset buffer length return value page index error\n'.repeat(25_000));
  for (let i = 0; i * MIB < data.length; i++) {
    const block = i % 3 === 0 ? text.subarray(i, i + MIB) : i % 3 === 1 ? patternBytes(MIB, i) : new Uint8Array(MIB);
    data.set(block.subarray(0, Math.min(MIB, data.length - i * MIB)), i * MIB);
  }
  return data;
}

/** A new image at `path` holding `data` as /big.bin. */
export function writeBigFileImage(path: string, data: Uint8Array, compression: CompressionId, passphrase?: string): string {
  const store = CartridgeStore.create(path, { compression, passphrase });
  store.writeFileFrom('/big.bin', { size: data.length, read: (buf, length, position) => buf.set(data.subarray(position, position + length)) });
  store.commit();
  store.close();
  return path;
}
