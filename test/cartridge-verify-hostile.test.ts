/**
 * verify on a sealed Cartridge whose meta page (re-sealed, so it is chosen) names a page
 * count far past the file: the SEAL page it points at is missing, and verify says so
 * (exit 1) instead of an internal error from a read position past 2^53 (found by
 * scripts/fuzz.js --kinds cart). The meta page's self-checksum is recomputed here from
 * the format's definition (docs/cartridge-format.md §5.1: CRC-32 of [0, 32) ‖ [64, pageSize)).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { diskkit } from './helpers/cli.js';

let dir = '';
let sealed = '';
let pub = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'diskkit-cart-verify-'));
  const src = join(dir, 'src');
  mkdirSync(src);
  for (let i = 0; i < 5; i++) writeFileSync(join(src, `f${i}.txt`), `file ${i}\n`.repeat(500));
  const image = join(dir, 'a.cart');
  expect((await diskkit(['mkfs', image, '--type', 'cartridge', '--checksum', 'crc32', '--from', src])).exitCode).toBe(0);
  const keys = generateKeyPairSync('ed25519');
  const key = join(dir, 'seal.pem');
  pub = join(dir, 'seal.pub');
  writeFileSync(key, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(pub, keys.publicKey.export({ type: 'spki', format: 'pem' }));
  sealed = join(dir, 'sealed.cart');
  const made = await diskkit(['seal', image, '--key', key, '--out', sealed]);
  expect(made.exitCode, made.stderr).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('verify of a sealed Cartridge with bytes appended after the SEAL page', () => {
  // §12: verify checks that nothing follows the SEAL page; a tail shorter than a page is something too.
  it.each([1, 100, 4095, 4096, 4097])('%d appended bytes: the seal does not verify (exit 1), and the problem names them', async (tail) => {
    const copy = join(dir, `tail-${tail}.cart`);
    copyFileSync(sealed, copy);
    expect((await diskkit(['verify', copy, '--pub', pub])).exitCode).toBe(0);
    appendFileSync(copy, Buffer.alloc(tail, 0x41));
    const r = await diskkit(['--json', 'verify', copy, '--pub', pub]);
    expect(r.exitCode).toBe(1);
    const doc = JSON.parse(r.stdout) as { valid: boolean; problems: string[] };
    expect(doc.valid).toBe(false);
    expect(doc.problems).toEqual([`the file has ${tail} bytes after the SEAL page`]);
  });
});

describe('verify of a sealed Cartridge with a hostile page count', () => {
  it('reports the SEAL page missing, exit 1, no internal error', async () => {
    expect((await diskkit(['verify', sealed, '--pub', pub])).exitCode).toBe(0);
    const b = readFileSync(sealed);
    const pageSize = b.readUInt32LE(12);
    // The meta slot read is the one with the higher generation (§4).
    const slot = [1, 2].sort((x, y) => Number(b.readBigUInt64LE(y * pageSize + 64) - b.readBigUInt64LE(x * pageSize + 64)))[0]!;
    const meta = slot * pageSize;
    const pageCount = 2 ** 48 - 1;
    b.writeBigUInt64LE(BigInt(pageCount), meta + 72);
    b.fill(0, meta + 32, meta + 64);
    b.writeUInt32LE(crc32(Buffer.concat([b.subarray(meta, meta + 32), b.subarray(meta + 64, meta + pageSize)])) >>> 0, meta + 32);
    writeFileSync(sealed, b);
    const r = await diskkit(['--json', 'verify', sealed, '--pub', pub]);
    expect(r.stderr).not.toContain('internal error');
    expect(r.exitCode).toBe(1);
    const doc = JSON.parse(r.stdout) as { valid: boolean; problems: string[] };
    expect(doc.valid).toBe(false);
    expect(doc.problems).toEqual([`page ${pageCount}: the SEAL page is missing (image truncated)`]);
  });
});
