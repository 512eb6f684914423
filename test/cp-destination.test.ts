/**
 * `cp IMAGE:/SRC missing.img:/DEST`: a destination shaped like IMAGE:/PATH whose image does
 * not exist is reported as a missing image (as with a host source), not as a failure to
 * create a host directory called `missing.img:`; a host directory that really has that
 * name still receives the copy.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { diskkit } from './helpers/cli.js';

const FAT12 = fileURLToPath(new URL('../fixtures/fat12.img', import.meta.url));

describe('cp out of an image to IMAGE:/PATH of a missing image', () => {
  it('is E_NOT_FOUND naming the missing image, for one file and for -r, into a folder or the root, and writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'diskkit-cp-dest-'));
    const missing = join(dir, 'missing.img');
    for (const args of [['cp', `${FAT12}:/UPPER.TXT`, `${missing}:/x.txt`], ['cp', '-r', `${FAT12}:/`, `${missing}:/b`], ['cp', '-r', `${FAT12}:/`, `${missing}:/`], ['cp', `${FAT12}:/UPPER.TXT`, `${missing}:/`]]) {
      const r = await diskkit(['--json', ...args]);
      expect(r.exitCode, args.join(' ')).toBe(1);
      const doc = JSON.parse(r.stdout) as { error: { code: string; image: string } };
      expect(doc.error.code).toBe('E_NOT_FOUND');
      expect(doc.error.image).toBe(missing);
    }
    expect(existsSync(`${missing}:`)).toBe(false);
  });

  it('a host directory named like one still receives the copy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'diskkit-cp-dest-'));
    const hostDir = join(dir, 'odd.img:');
    mkdirSync(hostDir);
    const r = await diskkit(['cp', `${FAT12}:/UPPER.TXT`, `${hostDir}/x.txt`]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(hostDir, 'x.txt'))).toEqual(Buffer.from((await diskkit(['cat', `${FAT12}:/UPPER.TXT`])).stdout));
  });
});
