/**
 * A copy out gives each host file the image's modification time to the millisecond:
 * the kernel's nanosecond time of the written file is exactly that millisecond, for
 * times whose ms / 1000 is not exact in binary (most of them).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHostFile } from '../../src/io/host-file-write.js';

describe('host file times written by a copy out', () => {
  it('are the image\'s milliseconds exactly, never a microsecond early', () => {
    const dir = mkdtempSync(join(tmpdir(), 'diskkit-host-times-'));
    try {
      // Every millisecond of one second (1796668681.768 is one that ms / 1000 puts a hair below), and some far apart.
      const times = [...Array.from({ length: 1000 }, (_, i) => 1_796_668_681_000 + i), 0, 999, 1_000_000_000_123, 4_102_444_800_999];
      for (const [i, ms] of times.entries()) {
        const path = join(dir, `f${i}`);
        writeHostFile(path, new Uint8Array([i & 0xff]), ms, ms);
        const st = statSync(path, { bigint: true });
        expect(st.mtimeNs, `${ms}`).toBe(BigInt(ms) * 1_000_000n);
        expect(st.atimeNs, `${ms}`).toBe(BigInt(ms) * 1_000_000n);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
