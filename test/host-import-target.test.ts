/**
 * engine/host-import-target.ts: cp -r starts its host-reader thread only for an image
 * whose format can take a host tree in bulk (a Cartridge). Expectations come from what
 * made each image: diskkit mkfs --type cartridge, mkfs.fat (the committed fixture).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { diskkit } from './helpers/cli.js';
import { imageMayImportHostTree } from '../src/engine/host-import-target.js';

const FAT12 = fileURLToPath(new URL('../fixtures/fat12.img', import.meta.url));

describe('imageMayImportHostTree', () => {
  it('is true for a Cartridge image only: not FAT, not a short or missing file, and a FIFO does not block it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'diskkit-import-target-'));
    try {
      const cart = join(dir, 'a.cart');
      expect((await diskkit(['mkfs', '--type', 'cartridge', cart])).exitCode).toBe(0);
      expect(imageMayImportHostTree(cart)).toBe(true);
      const fat = join(dir, 'fat.img');
      copyFileSync(FAT12, fat);
      expect(imageMayImportHostTree(fat)).toBe(false);
      // The magic's first bytes alone are not the magic.
      writeFileSync(join(dir, 'short'), Buffer.from('DKCA'));
      expect(imageMayImportHostTree(join(dir, 'short'))).toBe(false);
      expect(imageMayImportHostTree(join(dir, 'missing.img'))).toBe(false);
      expect(imageMayImportHostTree(dir)).toBe(false);
      execFileSync('mkfifo', [join(dir, 'fifo')]);
      expect(imageMayImportHostTree(join(dir, 'fifo'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
