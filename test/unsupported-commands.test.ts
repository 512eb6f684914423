/**
 * Commands a format cannot serve (FAT's cluster and DOS-attribute commands on Cartridge
 * and NTFS images) fail with E_UNSUPPORTED naming the format, exit 1 — not a usage error:
 * the command line was right, the image's format lacks the thing (issue 10, §1).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { diskkit } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'diskkit-unsupported-'));

describe('commands a format cannot serve', () => {
  it('Cartridge: du, chain, attrib +r and label are E_UNSUPPORTED naming the format; the image is unchanged', async () => {
    const img = join(dir, 'u.cart');
    expect((await diskkit(['mkfs', '--type', 'cartridge', img])).exitCode).toBe(0);
    writeFileSync(join(dir, 'f.txt'), 'file\n');
    expect((await diskkit(['cp', join(dir, 'f.txt'), `${img}:/f.txt`])).exitCode).toBe(0);
    const before = readFileSync(img);
    for (const args of [['du', `${img}:/`], ['chain', `${img}:/f.txt`], ['attrib', `${img}:/f.txt`, '+r'], ['label', img, 'NEW']]) {
      const r = await diskkit(['--json', ...args]);
      expect(r.exitCode, args.join(' ')).toBe(1);
      const doc = JSON.parse(r.stdout) as { error: { code: string; message: string; context: { format: string } } };
      expect(doc.error.code, args.join(' ')).toBe('E_UNSUPPORTED');
      expect(doc.error.context.format).toBe('cartridge');
      expect(doc.error.message).toMatch(/^Cartridge /);
    }
    expect(readFileSync(img).equals(before)).toBe(true);
  });

  it('NTFS: du and chain are E_UNSUPPORTED naming NTFS', async () => {
    const image = join(dir, 'demo.ntfs');
    writeFileSync(image, gunzipSync(readFileSync(fileURLToPath(new URL('../fixtures/ntfs/demo.ntfs.gz', import.meta.url)))));
    const files = (JSON.parse((await diskkit(['--json', 'ls', '-R', image])).stdout) as { path: string; type: string }[]).filter((e) => e.type === 'file');
    expect(files.length).toBeGreaterThan(0);
    for (const args of [['du', `${image}:/`], ['chain', `${image}:${files[0]!.path}`]]) {
      const r = await diskkit(args);
      expect(r.exitCode, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/^diskkit: .*NTFS volumes have no/m);
    }
  });
});
