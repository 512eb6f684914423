import { describe, expect, it } from 'vitest';
import { chooseMftMode } from '../src/engine/ntfs/scan-mft.js';
import { AUTO_PARALLEL_MFT_BYTES } from '../src/engine/ntfs/parse-module.js';
import { AUTO_SMALL_SCAN } from '../src/io/auto.js';
import type { MftLayout } from '../src/engine/ntfs/mft-source.js';

const layout = (bytes: number): MftLayout => ({ recordSize: 1024, recordCount: Math.ceil(bytes / 1024) }) as MftLayout;

describe('auto read mode for the MFT', () => {
  it('streams a small MFT, prefetches a medium one, parses a large one in workers only with two cores', () => {
    expect(chooseMftMode(layout(AUTO_SMALL_SCAN - 1024), 8)).toBe('streaming');
    expect(chooseMftMode(layout(AUTO_SMALL_SCAN), 8)).toBe('prefetch');
    expect(chooseMftMode(layout(AUTO_PARALLEL_MFT_BYTES - 1024), 8)).toBe('prefetch');
    expect(chooseMftMode(layout(AUTO_PARALLEL_MFT_BYTES), 2)).toBe('parallel');
    expect(chooseMftMode(layout(AUTO_PARALLEL_MFT_BYTES), 1)).toBe('prefetch');
  });

  it('reads a medium or large MFT on a rotational disk with one sequential reader (pipelined), a small one still streamed', () => {
    expect(chooseMftMode(layout(AUTO_PARALLEL_MFT_BYTES), 8, true)).toBe('pipelined');
    expect(chooseMftMode(layout(AUTO_SMALL_SCAN), 2, true)).toBe('pipelined');
    expect(chooseMftMode(layout(AUTO_SMALL_SCAN - 1024), 2, true)).toBe('streaming');
  });
});
