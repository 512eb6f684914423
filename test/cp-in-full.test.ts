/**
 * `cp -r` into a FAT image that fills up: the file that did not fit is reported, and so
 * are the entries after it, which the copy did not try (cp(1) names each one; diskkit
 * one line for them all, its count in `context.notCopied`). mtools and fsck.fat say
 * what the image holds afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { requireTools } from './helpers/oracle.js';
import { diskkit } from './helpers/cli.js';

const HAVE = requireTools('mdir', 'fsck.fat');
let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'diskkit-cp-full-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(HAVE)('cp -r into a FAT image that fills up', () => {
  it('reports the file that did not fit and counts the entries after it', async () => {
    const image = join(dir, 'floppy.img');
    expect((await diskkit(['mkfs', image, '1440'])).exitCode).toBe(0);
    const tree = join(dir, 'tree');
    mkdirSync(tree);
    const names = ['f1', 'f2', 'f3', 'f4', 'f5', 'f6'];
    for (const name of names) writeFileSync(join(tree, name), randomBytes(400_000));
    const r = await diskkit(['--json', 'cp', '-r', tree, `${image}:/`]);
    expect(r.exitCode).toBe(1);
    const doc = JSON.parse(r.stdout) as { files: number; errors: { path: string; code: string; message: string }[] };
    // What mtools finds in the image is what the copy says it wrote.
    const listed = execFileSync('mdir', ['-b', '-i', image, '::/tree'], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' }, encoding: 'utf8' }).trim().split('\n').filter(Boolean);
    expect(listed.length).toBe(doc.files);
    expect(doc.files).toBeGreaterThan(0);
    expect(doc.files).toBeLessThan(names.length - 1);
    execFileSync('fsck.fat', ['-n', image]);
    const [full, rest] = doc.errors;
    expect(doc.errors).toHaveLength(2);
    expect([full!.path, full!.code]).toEqual([join(tree, names[doc.files]!), 'E_NO_SPACE']);
    const left = names.length - doc.files - 1;
    expect([rest!.path, rest!.code]).toEqual([join(tree, names[doc.files + 1]!), 'E_NO_SPACE']);
    expect(rest!.message).toBe(`not copied, nor the ${left - 1} ${left === 2 ? 'entry' : 'entries'} after it: the copy stopped at the error above`);
  });
});
