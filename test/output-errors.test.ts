/**
 * Issue 12, defect 6: a full output device, a file-size limit and a refused
 * allocation end in a coded `diskkit:` line naming what failed, never "internal
 * error". /dev/full gives ENOSPC on every write; prlimit --fsize gives EFBIG.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskkitError, ErrorCode, toDiskkitError } from '../src/engine/errors.js';
import { BIN } from './helpers/cli.js';
import { requireTools } from './helpers/oracle.js';

const FAT16 = new URL('../fixtures/generated/fat16.img', import.meta.url).pathname;
const tools = requireTools('mkfs.fat', 'prlimit');
let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'diskkit-out-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(tools && existsSync('/dev/full'))('output errors', () => {
  it('ls -R and cat into a full device: E_IO with ENOSPC, exit 1', async () => {
    for (const args of [['ls', '-R', FAT16], ['cat', `${FAT16}:/MixedCase.Txt`]]) {
      const r = await execa('sh', ['-c', `node "$0" "$@" > /dev/full`, BIN, ...args], { reject: false });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toBe(`diskkit: ${FAT16}: cannot write standard output: no space left on the device (ENOSPC)`);
    }
  });

  it('ls -R past a file-size limit: E_IO with EFBIG, exit 1', async () => {
    const out = join(dir, 'listing.txt');
    const r = await execa('sh', ['-c', `prlimit --fsize=1000 node "$0" "$@" > "${out}"`, BIN, 'ls', '-R', '-l', FAT16], { reject: false });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^diskkit: .*: cannot write standard output: .* \(EFBIG\)$/);
  });
});

describe('toDiskkitError', () => {
  it('turns a refused allocation into E_NO_MEMORY with the limit to raise', () => {
    let refused: unknown;
    try {
      new ArrayBuffer(2 ** 45);
    } catch (error) {
      refused = error;
    }
    const e = toDiskkitError(refused) as DiskkitError;
    expect(e).toBeInstanceOf(DiskkitError);
    expect(e.code).toBe(ErrorCode.NO_MEMORY);
    expect(e.hint).toContain('--max-old-space-size');
  });

  it('leaves other errors alone', () => {
    const plain = new TypeError('x');
    expect(toDiskkitError(plain)).toBe(plain);
  });
});
