/**
 * `icat IMG 0 | diskkit mft index /dev/stdin` (or `-`): a pipe cannot be read at
 * offsets, so it is read to its end first; the rows equal those of the same dump
 * read from a file. The shipped dump was made by icat (fixtures/make-ntfs-fixtures.sh).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { BIN, diskkit } from './helpers/cli.js';

const DUMP = fileURLToPath(new URL('../fixtures/ntfs/small.mft', import.meta.url));

describe('mft index from a pipe', () => {
  it.each(['-', '/dev/stdin'])('%s gives the rows of the same dump read from a file', async (arg) => {
    const fromFile = await diskkit(['mft', 'index', DUMP]);
    expect(fromFile.exitCode).toBe(0);
    const piped = await execa('node', [BIN, 'mft', 'index', arg], { input: readFileSync(DUMP), reject: false, encoding: 'utf8', env: { NO_COLOR: '1' } });
    expect(piped.exitCode, piped.stderr).toBe(0);
    expect(piped.stdout).toBe(fromFile.stdout);
    expect(piped.stdout.split('\n').length).toBeGreaterThan(100);
  });

  it('an empty pipe is a clear error, not a crash', async () => {
    const r = await execa('node', [BIN, 'mft', 'index', '-'], { input: '', reject: false, encoding: 'utf8', env: { NO_COLOR: '1' } });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^diskkit: stdin: /);
  });
});
