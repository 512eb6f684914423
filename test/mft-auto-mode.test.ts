import { describe, expect, it } from 'vitest';
import { chooseMftAuto, chooseMftMode } from '../src/engine/ntfs/scan-mft.js';
import { AUTO_PARALLEL_MFT_BYTES } from '../src/engine/ntfs/parse-module.js';
import { AUTO_SMALL_SCAN, AUTO_STREAMING_CHUNK, busyCoresNow, chooseMode } from '../src/io/auto.js';
import type { MftLayout } from '../src/engine/ntfs/mft-source.js';
import type { BlockSource } from '../src/io/block-source.js';
import { diskkit } from './helpers/cli.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const layout = (bytes: number): MftLayout => ({ recordSize: 1024, recordCount: Math.ceil(bytes / 1024) }) as MftLayout;
const file = { kind: 'file' } as BlockSource;
const MiB = 2 ** 20;

describe('auto read mode for the MFT (parsing dominates)', () => {
  it('streams a small MFT, prefetches a medium one, parses a large one in workers only when a second core is free', () => {
    expect(chooseMftMode(layout(AUTO_SMALL_SCAN - 1024), 8, 0)).toBe('streaming');
    expect(chooseMftMode(layout(AUTO_SMALL_SCAN), 8, 0)).toBe('prefetch');
    expect(chooseMftMode(layout(AUTO_PARALLEL_MFT_BYTES - 1024), 8, 0)).toBe('prefetch');
    expect(chooseMftMode(layout(AUTO_PARALLEL_MFT_BYTES), 2, 0)).toBe('parallel');
    expect(chooseMftMode(layout(AUTO_PARALLEL_MFT_BYTES), 1, 0)).toBe('prefetch');
    // two cores already busy with other processes: a worker would only wait for a core
    expect(chooseMftMode(layout(AUTO_PARALLEL_MFT_BYTES), 2, 1.2)).toBe('prefetch');
    expect(chooseMftMode(layout(AUTO_PARALLEL_MFT_BYTES), 2, 14)).toBe('prefetch');
  });

  it('a pipeline with one thread (one core, or its share under --jobs) decides without sampling the CPUs', () => {
    // No load given: a two-core pipeline measures CPU use, a one-thread pipeline has nothing to measure for.
    const one = chooseMftAuto(layout(AUTO_PARALLEL_MFT_BYTES), 1);
    expect(one.mode).toBe('prefetch');
    expect(one.reason).toMatch(/one thread for this pipeline/);
    expect(one.reason).not.toMatch(/measured just now/);
    expect(chooseMftAuto(layout(AUTO_PARALLEL_MFT_BYTES), 2).reason).toMatch(/measured just now/);
  });
});

describe('busy cores are measured now, not taken from the 1-minute load average', () => {
  it('a thread spinning on another core counts as (nearly) one busy core', async () => {
    const { Worker } = await import('node:worker_threads');
    const spin = new Worker('const end = Date.now() + 1500; while (Date.now() < end) {}', { eval: true });
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      // A fresh sample (the module remembers one for a second).
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(busyCoresNow()).toBeGreaterThanOrEqual(0.7);
    } finally {
      await spin.terminate();
    }
  });
});

describe('auto read mode for scans with per-chunk work', () => {
  it('cheap work (CRC-32 at ~5 GB/s) streams a page-cached file; heavy work (SHA-256) goes to workers only with a free core', () => {
    expect(chooseMode(file, 512 * MiB, 2, 5e9, 0).mode).toBe('streaming');
    expect(chooseMode(file, 512 * MiB, 2, Infinity, 0).mode).toBe('streaming');
    expect(chooseMode(file, 512 * MiB, 2, 1.1e9, 0).mode).toBe('parallel');
    expect(chooseMode(file, 512 * MiB, 2, 1.1e9, 3).mode).toBe('streaming');
    expect(chooseMode(file, 4 * MiB, 8, 1.1e9, 0).mode).toBe('streaming');
    expect(chooseMode({ kind: 'block-device' } as BlockSource, 512 * MiB, 2, 5e9, 0).mode).toBe('prefetch');
  });

  it('a large streaming scan of a file reads 1 MiB chunks (the fastest streaming size in bench/io.bench.js); small scans and readers keep the default', () => {
    expect(chooseMode(file, 512 * MiB, 2, Infinity, 0).chunkSize).toBe(AUTO_STREAMING_CHUNK);
    expect(chooseMode(file, 512 * MiB, 2, 5e9, 0).chunkSize).toBe(AUTO_STREAMING_CHUNK);
    expect(chooseMode(file, 4 * MiB, 2, 5e9, 0).chunkSize).toBeUndefined();
    expect(chooseMode({ kind: 'reader' } as BlockSource, 512 * MiB, 2, 5e9, 0).chunkSize).toBeUndefined();
    expect(chooseMode(file, 512 * MiB, 2, Infinity, 0).reason).not.toMatch(/Infinity/);
  });

  it('bench --mode auto with the default CRC-32 reads a file in streaming mode and says why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-auto-'));
    try {
      const path = join(dir, 'f.bin');
      writeFileSync(path, Buffer.alloc(16 * MiB, 3));
      const r = await diskkit(['--json', 'bench', path, '--runs', '1', '--seconds', '0.2']);
      expect(r.exitCode, r.stderr).toBe(0);
      const row = JSON.parse(r.stdout).workloads.sequentialRead.byMode[0];
      expect(row.mode).toBe('auto');
      expect(row.ranAs).toBe('streaming');
      expect(row.autoReason).toMatch(/cheap/);
      expect(row.chunkSize).toBe(AUTO_STREAMING_CHUNK);
      const v = await diskkit(['bench', path, '--runs', '1', '--seconds', '0.2', '-v']);
      expect(v.stderr).toMatch(/auto: per-chunk work is cheap/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a medium or large MFT on a rotational disk with one sequential reader (pipelined), a small one still streamed', () => {
    expect(chooseMftMode(layout(AUTO_PARALLEL_MFT_BYTES), 8, 0, true)).toBe('pipelined');
    expect(chooseMftMode(layout(AUTO_SMALL_SCAN), 2, 0, true)).toBe('pipelined');
    expect(chooseMftMode(layout(AUTO_SMALL_SCAN - 1024), 2, true)).toBe('streaming');
  });
});
