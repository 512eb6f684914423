/**
 * The Cartridge management commands as a user runs them: snapshot create/list/restore/
 * delete, compact, seal and verify, key change, and fsck on a cartridge (exit codes as
 * fsck(8)). Expectations come from the engine's own reads and from the files written.
 */
import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import { diskkit } from '../helpers/cli.js';
import { CartridgeStore } from '../../src/engine/cartridge/store.js';
import { Compression } from '../../src/engine/cartridge/superblock.js';
import { patternBytes, scratchDir } from './scratch.js';

const nextPath = scratchDir('cmds');
const SCHEMAS = fileURLToPath(new URL('../../docs/schemas/', import.meta.url));
const ajv = new Ajv({ allErrors: true, strict: true });
for (const file of readdirSync(SCHEMAS)) ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, file), 'utf8')), file.replace('.schema.json', ''));

/** Parses a --json document and checks it against its schema in docs/schemas/. */
function documentOf(schema: string, stdout: string): Record<string, any> {
  const doc = JSON.parse(stdout);
  const validate = ajv.getSchema(schema)!;
  expect(validate(doc), `${schema}: ${ajv.errorsText(validate.errors)}`).toBe(true);
  return doc;
}

async function makeImage(passphrase?: string): Promise<string> {
  const path = nextPath();
  const store = CartridgeStore.create(path, { compression: Compression.NONE, extentSize: 65536, passphrase });
  for (let i = 0; i < 12; i++) await store.writeFile(`/f${i}`, patternBytes(100_000, i + 1));
  store.commit();
  store.close();
  return path;
}

async function read(path: string, name: string, passphrase?: string, snapshot?: string): Promise<Buffer> {
  const store = CartridgeStore.open(path, { passphrase, snapshot });
  try {
    return Buffer.from(await store.readFile(name));
  } finally {
    store.close();
  }
}

describe('snapshot, compact, fsck on a Cartridge through the CLI', () => {
  it('create, list, restore and delete a snapshot; compact; fsck stays clean', async () => {
    const image = await makeImage();
    documentOf('snapshot', (await diskkit(['--json', 'snapshot', 'create', image, 'v1'])).stdout);
    const list = await diskkit(['--json', 'snapshot', 'list', image]);
    expect(documentOf('snapshot', list.stdout).snapshots.map((s: { name: string; files: number }) => [s.name, s.files])).toEqual([['v1', 12]]);
    // Change the image after the snapshot, through the engine.
    const store = CartridgeStore.open(image, { writable: true });
    for (let i = 0; i < 12; i += 2) store.remove(`/f${i}`);
    await store.writeFile('/f1', patternBytes(5_000, 77));
    store.commit();
    store.close();
    expect((await read(image, '/f0', undefined, 'v1')).equals(Buffer.from(patternBytes(100_000, 1)))).toBe(true);
    expect((await diskkit(['snapshot', 'create', image, 'v1'])).stderr).toMatch(/snapshot v1 already exists/);
    const restore = await diskkit(['snapshot', 'restore', image, 'v1']);
    expect(restore.exitCode, restore.stderr).toBe(0);
    expect((await read(image, '/f1')).equals(Buffer.from(patternBytes(100_000, 2)))).toBe(true);
    expect((await read(image, '/f0')).equals(Buffer.from(patternBytes(100_000, 1)))).toBe(true);
    // Remove half again, drop the snapshot, compact: the file shrinks and reads the same.
    const again = CartridgeStore.open(image, { writable: true });
    for (let i = 0; i < 12; i += 2) again.remove(`/f${i}`);
    again.commit();
    again.close();
    const deleted = await diskkit(['--json', 'snapshot', 'delete', image, 'v1']);
    expect(documentOf('snapshot', deleted.stdout).pagesFreed).toBeGreaterThan(6 * 24);
    const before = statSync(image).size;
    const compact = await diskkit(['--json', 'compact', image]);
    expect(compact.exitCode, compact.stderr).toBe(0);
    expect(documentOf('compact', compact.stdout).bytesAfter).toBe(statSync(image).size);
    expect(statSync(image).size).toBeLessThan(before * 0.65);
    for (let i = 1; i < 12; i += 2) expect((await read(image, `/f${i}`)).equals(Buffer.from(patternBytes(100_000, i + 1)))).toBe(true);
    const fsck = await diskkit(['fsck', '-v', image]);
    expect(fsck.exitCode, fsck.stdout + fsck.stderr).toBe(0);
    expect(fsck.stdout).toMatch(/6 files, 1 directories/);
    expect(documentOf('fsck', (await diskkit(['--json', 'fsck', image])).stdout).stats.files).toBe(6);
  }, 60_000);

  it('fsck exits 4 for a damaged extent, naming it, and 8 with the error for a wrong passphrase', async () => {
    const image = await makeImage();
    const bytes = readFileSync(image);
    bytes[bytes.length - 70_000]! ^= 1;
    writeFileSync(image, bytes);
    const fsck = await diskkit(['--json', 'fsck', image]);
    expect(fsck.exitCode).toBe(4);
    const doc = documentOf('fsck', fsck.stdout);
    expect(doc.errors[0].code).toBe('E_FSCK_EXTENT');
    expect(doc.errors[0].message).toMatch(/^extent at page \d+: checksum mismatch/);
    const encrypted = await makeImage('pw');
    const wrong = await diskkit(['fsck', encrypted], { env: { DISKKIT_PASSPHRASE: 'nope' } });
    expect(wrong.exitCode).toBe(8);
    expect(wrong.stderr).toMatch(/wrong passphrase/);
    const right = await diskkit(['fsck', encrypted], { env: { DISKKIT_PASSPHRASE: 'pw' } });
    expect(right.exitCode, right.stderr).toBe(0);
  }, 60_000);
});

describe('seal, verify and key change through the CLI', () => {
  const keys = generateKeyPairSync('ed25519');
  const other = generateKeyPairSync('ed25519');

  it('seal writes a signed read-only copy; verify accepts it, rejects another key and a changed byte; writes are refused', async () => {
    const image = await makeImage();
    const dir = image.replace(/[^/]+$/, '');
    const pem = `${dir}seal.pem`;
    const pub = `${dir}seal.pub`;
    const otherPub = `${dir}other.pub`;
    writeFileSync(pem, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(pub, keys.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(otherPub, other.publicKey.export({ type: 'spki', format: 'pem' }));
    const sealed = `${image}.sealed`;
    const seal = await diskkit(['--json', 'seal', image, '--key', pem, '--out', sealed]);
    expect(seal.exitCode, seal.stderr).toBe(0);
    expect(documentOf('seal', seal.stdout).bytes).toBe(statSync(sealed).size);
    const ok = await diskkit(['verify', sealed, '--pub', pub]);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/seal valid/);
    const wrongKey = await diskkit(['verify', sealed, '--pub', otherPub]);
    expect(wrongKey.exitCode).toBe(1);
    expect(wrongKey.stdout).toMatch(/signature does not verify/);
    const refused = await diskkit(['--json', 'mkdir', `${sealed}:/new`]);
    expect(refused.exitCode).toBe(1);
    expect(JSON.parse(refused.stdout).error.code).toBe('E_READ_ONLY');
    const snapshot = await diskkit(['snapshot', 'create', sealed, 's']);
    expect(snapshot.exitCode).toBe(1);
    expect(snapshot.stderr).toMatch(/sealed/);
    const bytes = readFileSync(sealed);
    bytes[5 * 4096 + 100]! ^= 0x80;
    writeFileSync(sealed, bytes);
    const tampered = await diskkit(['--json', 'verify', sealed, '--pub', pub]);
    expect(tampered.exitCode).toBe(1);
    expect(documentOf('verify', tampered.stdout).valid).toBe(false);
    const notEd = await diskkit(['seal', image, '--key', pub, '--out', `${image}.x`]);
    expect(notEd.exitCode).toBe(2);
  }, 60_000);

  it('key change: the new passphrase opens the image, the old one is refused', async () => {
    const image = await makeImage('old pass');
    const change = await diskkit(['--json', 'key', 'change', image], { env: { DISKKIT_PASSPHRASE: 'old pass', DISKKIT_NEW_PASSPHRASE: 'new pass' } });
    expect(change.exitCode, change.stderr).toBe(0);
    expect(documentOf('key', change.stdout).changed).toBe(true);
    expect((await read(image, '/f3', 'new pass')).equals(Buffer.from(patternBytes(100_000, 4)))).toBe(true);
    expect(() => CartridgeStore.open(image, { passphrase: 'old pass' })).toThrow(/wrong passphrase/);
    const none = await diskkit(['key', 'change', image], { env: { DISKKIT_PASSPHRASE: 'new pass' } });
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toMatch(/a new passphrase is needed/);
    const plain = await diskkit(['key', 'change', await makeImage()], { env: { DISKKIT_NEW_PASSPHRASE: 'x' } });
    expect(plain.stderr).toMatch(/not encrypted/);
    // Key files are read alike (the first line is the passphrase): --key-file for the old one, --new-key-file for the new.
    const oldFile = `${image}.old-key`;
    const newFile = `${image}.new-key`;
    writeFileSync(oldFile, 'new pass\n');
    writeFileSync(newFile, 'third pass\na comment line\n');
    const viaFiles = await diskkit(['--key-file', oldFile, 'key', 'change', image, '--new-key-file', newFile]);
    expect(viaFiles.exitCode, viaFiles.stderr).toBe(0);
    expect((await read(image, '/f3', 'third pass')).equals(Buffer.from(patternBytes(100_000, 4)))).toBe(true);
  }, 60_000);
});

describe('IMAGE@NAME with an @ in the snapshot name or in the image file name', () => {
  it.each([
    ['plain.cart', 'a@b'],
    ['plain.cart', 'v@1@2'],
    ['build@2.cart', 'snap'],
    ['build@2.cart', 's@x'],
  ])('%s@%s: ls, cat and cp read the tree the snapshot pinned; writing to it is refused', async (file, name) => {
    const image = join(mkdtempSync(`${nextPath()}-`), file);
    expect((await diskkit(['mkfs', image, '--type', 'cartridge'])).exitCode).toBe(0);
    const before = join(dirname(image), `${file}-${name}-before.txt`);
    const after = join(dirname(image), `${file}-${name}-after.txt`);
    writeFileSync(before, `pinned by ${name}\n`);
    writeFileSync(after, 'written after the snapshot\n');
    expect((await diskkit(['cp', before, `${image}:/f.txt`])).exitCode).toBe(0);
    const created = await diskkit(['snapshot', 'create', image, name]);
    expect(created.exitCode, created.stderr).toBe(0);
    expect((await diskkit(['cp', after, `${image}:/f.txt`])).exitCode).toBe(0);
    expect((await diskkit(['cp', after, `${image}:/g.txt`])).exitCode).toBe(0);
    const view = `${image}@${name}`;
    const ls = await diskkit(['ls', `${view}:/`]);
    expect(ls.exitCode, ls.stderr).toBe(0);
    expect(ls.stdout.trim().split('\n')).toEqual(['f.txt']);
    const cat = await diskkit(['cat', `${view}:/f.txt`]);
    expect(cat.exitCode, cat.stderr).toBe(0);
    expect(`${cat.stdout}\n`).toBe(readFileSync(before, 'utf8'));
    const out = join(dirname(image), `${file}-${name}-out.txt`);
    expect((await diskkit(['cp', `${view}:/f.txt`, out])).exitCode).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(before, 'utf8'));
    const write = await diskkit(['mkdir', `${view}:/d`]);
    expect(write.exitCode).toBe(1);
    expect(write.stderr).toMatch(/read-only/);
    expect(`${(await diskkit(['cat', `${image}:/f.txt`])).stdout}\n`).toBe(readFileSync(after, 'utf8'));
  }, 60_000);
});

describe('cp between two encrypted cartridges with different passphrases', () => {
  it('names the image whose passphrase is wrong or missing, whichever side it is', async () => {
    const dir = mkdtempSync(`${nextPath()}-`);
    const [a, b, plain] = ['a.cart', 'b.cart', 'plain.cart'].map((n) => join(dir, n));
    expect((await diskkit(['mkfs', a, '--type', 'cartridge', '--encrypt'], { env: { DISKKIT_PASSPHRASE: 'pass a' } })).exitCode).toBe(0);
    expect((await diskkit(['mkfs', b, '--type', 'cartridge', '--encrypt'], { env: { DISKKIT_PASSPHRASE: 'pass b' } })).exitCode).toBe(0);
    expect((await diskkit(['mkfs', plain, '--type', 'cartridge'])).exitCode).toBe(0);
    const file = join(dir, 'f.txt');
    writeFileSync(file, 'secret\n');
    expect((await diskkit(['cp', file, `${a}:/f.txt`], { env: { DISKKIT_PASSPHRASE: 'pass a' } })).exitCode).toBe(0);
    const cases: [string[], string, string, RegExp][] = [
      [['cp', `${a}:/f.txt`, `${b}:/f.txt`], 'pass a', b, /wrong passphrase/],
      [['cp', `${a}:/f.txt`, `${b}:/f.txt`], 'pass b', a, /wrong passphrase/],
      [['cp', '-r', `${plain}:/`, `${a}:/d`], '', a, /no passphrase was given/],
      [['cp', `${a}:/f.txt`, `${plain}:/f.txt`], '', a, /no passphrase was given/],
    ];
    for (const [args, passphrase, blamed, message] of cases) {
      const r = await diskkit(args, { env: passphrase ? { DISKKIT_PASSPHRASE: passphrase } : {} });
      expect(r.exitCode, args.join(' ')).toBe(1);
      const line = r.stderr.split('\n')[0]!;
      expect(line.startsWith(`diskkit: ${blamed}: `), `${args.join(' ')} with '${passphrase}': ${line}`).toBe(true);
      expect(line).toMatch(message);
    }
    expect(`${(await diskkit(['cat', `${a}:/f.txt`], { env: { DISKKIT_PASSPHRASE: 'pass a' } })).stdout}\n`).toBe('secret\n');
  }, 60_000);
});
