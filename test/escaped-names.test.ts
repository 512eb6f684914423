/**
 * Issue 12, defect 5: every name from the image in every message goes through one
 * escaping (escapeName: control characters as \xNN, \n \r \t, backslash doubled),
 * whether it sits in the message itself ("directory X runs into a free cluster") or
 * in the "(path ...)" part, and fsck's own name quotes are not escaped twice. The
 * image is built by raw writes on an mkfs.fat image.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskkit } from './helpers/cli.js';
import { DIR, clusterOffset, geometry, makeFat16, setFat, writeEntry } from './helpers/hostile-fat.js';
import { requireTools } from './helpers/oracle.js';

const tools = requireTools('mkfs.fat');
let dir = '';
let image = '';
const ESC_DIR = '\x1b[2J'; // "clear screen" as a directory name
const CR_FILE = 'A\rB'; // a carriage return splits a line

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'diskkit-escape-'));
  image = join(dir, 'names.img');
  if (!tools) return;
  const img = makeFat16(image);
  const g = geometry(img);
  // The directory's chain: cluster 3 -> 4, and 4 is free.
  setFat(img, g, 3, 4);
  writeEntry(img, g.rootOffset + 32, ESC_DIR, '', DIR, 3, 0);
  writeEntry(img, clusterOffset(g, 3), '.', '', DIR, 3, 0);
  writeEntry(img, clusterOffset(g, 3) + 32, '..', '', DIR, 0, 0);
  // A file whose chain holds an invalid FAT value (1).
  setFat(img, g, 10, 1);
  writeEntry(img, g.rootOffset + 64, CR_FILE, 'TXT', 0x20, 10, 100);
  writeFileSync(image, img);
});
afterAll(() => { if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true }); });

/** Control characters other than the line feeds that end lines. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe.runIf(tools)('names in messages', () => {
  it('ls -R escapes the directory name inside the message, once', async () => {
    const r = await diskkit(['ls', '-R', image]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).not.toMatch(RAW_CONTROL);
    expect(r.stderr).toContain('directory /\\x1b[2J runs into a free cluster');
    expect(r.stdout).not.toMatch(RAW_CONTROL);
  });

  it('cp -r escapes the file name inside "has an invalid FAT value"', async () => {
    const r = await diskkit(['cp', '-r', `${image}:/`, join(dir, 'out')]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).not.toMatch(RAW_CONTROL);
    expect(r.stderr).toContain('chain of /A\\rB.TXT');
  });

  it('fsck quotes names escaped exactly once', async () => {
    const r = await diskkit(['fsck', image]);
    expect(r.exitCode).toBe(4);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    expect(r.stdout).toContain('short name "\\x1b[2J" is invalid');
    expect(r.stdout).toContain('short name "A\\rB.TXT" is invalid');
    expect(r.stdout).not.toContain('\\\\x1b');
  });
});
