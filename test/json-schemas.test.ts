/**
 * Every `--json` output validated against its published JSON Schema (docs/schemas/,
 * checked with ajv): each command's success document, and the error document every
 * command prints on stdout when it fails. One spelling of the FAT type everywhere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import { diskkit } from './helpers/cli.js';
import { requireTools } from './helpers/oracle.js';

const SCHEMAS = fileURLToPath(new URL('../docs/schemas/', import.meta.url));
const DUMP = fileURLToPath(new URL('../fixtures/ntfs/small.mft', import.meta.url));
const HAVE = requireTools('mkfs.fat');
const ajv = new Ajv({ allErrors: true, strict: true });
for (const file of readdirSync(SCHEMAS)) ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, file), 'utf8')), file.replace('.schema.json', ''));

function expectValid(schema: string, stdout: string): unknown {
  const doc = JSON.parse(stdout) as unknown;
  const validate = ajv.getSchema(schema)!;
  expect(validate, `schema ${schema}`).toBeTypeOf('function');
  const ok = validate(doc);
  expect(ok ? [] : validate.errors, `${schema}: ${stdout.slice(0, 300)}`).toEqual([]);
  return doc;
}

let work = '';
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dk-schemas-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('--json documents match docs/schemas', () => {
  it.runIf(HAVE)('FAT commands: mkfs, info, ls, cp in and out, mkdir, mv, rm, fsck', async () => {
    const img = join(work, 'v.img');
    const mkfs = await diskkit(['--json', 'mkfs', img, '--size', '4M', '--label', 'SCHEMA']);
    expect(mkfs.exitCode, mkfs.stderr).toBe(0);
    const made = expectValid('mkfs', mkfs.stdout) as { fatType: string };
    const info = expectValid('info', (await diskkit(['--json', 'info', img])).stdout) as { fatType: string };
    // one spelling: what mkfs made is what info reads
    expect(made.fatType).toBe('FAT12');
    expect(info.fatType).toBe(made.fatType);
    const host = join(work, 'host');
    mkdirSync(join(host, 'sub'), { recursive: true });
    writeFileSync(join(host, 'a.txt'), 'a');
    writeFileSync(join(host, 'sub', 'b.txt'), 'b');
    expectValid('cp-in', (await diskkit(['--json', 'cp', '-r', `${host}/.`, `${img}:/`])).stdout);
    expectValid('mkdir', (await diskkit(['--json', 'mkdir', `${img}:/new`])).stdout);
    expectValid('mv', (await diskkit(['--json', 'mv', `${img}:/a.txt`, `${img}:/new/`])).stdout);
    expectValid('ls', (await diskkit(['--json', 'ls', '-R', '-l', img])).stdout);
    const out = join(work, 'out');
    mkdirSync(out);
    expectValid('cp-out', (await diskkit(['--json', 'cp', '-r', `${img}:/sub`, out])).stdout);
    expectValid('rm', (await diskkit(['--json', 'rm', '-r', `${img}:/sub`, `${img}:/missing`])).stdout);
    const clean = expectValid('fsck', (await diskkit(['--json', 'fsck', img])).stdout) as { uncorrected: unknown[]; stats: { fatType: string } };
    expect(clean.uncorrected).toEqual([]);
    expect(clean.stats.fatType).toBe(made.fatType);
    // a damaged image: without --repair every error is in uncorrected too
    const bytes = readFileSync(img);
    bytes[512 + 3] ^= 0xff; // first FAT copy differs from the second
    writeFileSync(join(work, 'bad.img'), bytes);
    const bad = await diskkit(['--json', 'fsck', join(work, 'bad.img')]);
    expect(bad.exitCode).toBe(4);
    const report = expectValid('fsck', bad.stdout) as { errors: unknown[]; uncorrected: unknown[] };
    expect(report.errors.length).toBeGreaterThan(0);
    expect(report.uncorrected).toEqual(report.errors.map((e) => { const { clusters: _c, ...rest } = e as Record<string, unknown>; return rest; }));
  });

  it('mft index, mft bench and bench', async () => {
    expectValid('mft-index', (await diskkit(['--json', 'mft', 'index', DUMP, '--format', 'none'])).stdout);
    expectValid('mft-bench', (await diskkit(['--json', 'mft', 'bench', DUMP, '--modes', 'streaming', '--stats'])).stdout);
    const file = join(work, 'raw.bin');
    writeFileSync(file, Buffer.alloc(1 << 20, 5));
    expectValid('bench', (await diskkit(['--json', 'bench', file, '--runs', '1', '--seconds', '0.1'])).stdout);
  });

  it('every command prints the error document on stdout when it fails', async () => {
    const missing = join(work, 'missing.img');
    const failing: [string[], number][] = [
      [['info', missing], 1],
      [['ls', missing], 1],
      [['cat', `${missing}:/x`], 1],
      [['cp', `${missing}:/x`, work], 1],
      [['mkdir', `${missing}:/d`], 1],
      [['rm', `${missing}:/d`], 1],
      [['mv', `${missing}:/a`, `${missing}:/b`], 1],
      [['mkfs', join(work, 'm.img'), '--size', 'lots'], 2],
      [['fsck', missing], 8],
      [['bench', missing], 1],
      [['mft', 'index', missing], 1],
      [['mft', 'bench', missing], 1],
      [['ls', '--bogus', missing], 2],
    ];
    for (const [args, code] of failing) {
      const r = await diskkit(['--json', ...args]);
      expect(r.exitCode, args.join(' ')).toBe(code);
      const doc = expectValid('error', r.stdout) as { exitCode: number };
      expect(doc.exitCode).toBe(code);
    }
  });
});
