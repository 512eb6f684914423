import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { CartridgeStore } from '../../src/engine/cartridge/store.js';
import { closeCartridgeFile, openCartridgeFile } from '../../src/engine/cartridge/cartridge-file.js';
import { compactCartridge } from '../../src/engine/cartridge/compact.js';
import { checkCartridge } from '../../src/engine/cartridge/fsck-check.js';
import { checkPageOwnership } from '../../src/engine/cartridge/ownership.js';
import { ed25519PrivateKey, ed25519PublicKey, sealCartridge, verifySeal } from '../../src/engine/cartridge/seal.js';
import { Compression } from '../../src/engine/cartridge/superblock.js';
import { DiskkitError } from '../../src/engine/errors.js';
import { patternBytes, scratchDir } from './scratch.js';

const nextPath = scratchDir('compact');
const clean = { orphans: [], doubleOwned: [], problems: [] };

async function readModel(store: CartridgeStore, model: Map<string, Uint8Array>): Promise<string[]> {
  const wrong: string[] = [];
  for (const [name, data] of model) if (!Buffer.from(await store.readFile(name)).equals(Buffer.from(data))) wrong.push(name);
  return wrong;
}

/** An image where every other file was removed: half its pages are holes. */
async function halfDeleted(path: string, options: { passphrase?: string; compression?: number } = {}): Promise<Map<string, Uint8Array>> {
  const store = CartridgeStore.create(path, { extentSize: 65536, compression: (options.compression ?? Compression.NONE) as 0, passphrase: options.passphrase });
  const model = new Map<string, Uint8Array>();
  store.mkdir('/d');
  for (let i = 0; i < 40; i++) {
    const data = patternBytes(20_000 + i * 7_000, i + 1);
    await store.writeFile(`/d/f${i}`, data);
    model.set(`/d/f${i}`, data);
  }
  store.commit();
  for (let i = 0; i < 40; i += 2) {
    store.remove(`/d/f${i}`);
    model.delete(`/d/f${i}`);
  }
  store.commit();
  store.close();
  return model;
}

describe('compact (§16)', () => {
  it.each([
    ['plain', {}],
    ['encrypted', { passphrase: 'compact', compression: Compression.LZ4 }],
  ] as const)('%s: moves live data down, truncates, and every file reads back the same', async (_name, options) => {
    const path = nextPath();
    const model = await halfDeleted(path, options);
    const before = statSync(path).size;
    const file = openCartridgeFile(path, { writable: true, passphrase: options.passphrase });
    const report = compactCartridge(file);
    closeCartridgeFile(file);
    const after = statSync(path).size;
    expect(after).toBe(report.pagesAfter * 4096);
    // Live data is about half of what the file held; compaction must get close to it.
    const live = [...model.values()].reduce((sum, d) => sum + Math.ceil(d.length / 65536) * 65536, 0);
    expect(after).toBeLessThan(before * 0.7);
    expect(after).toBeLessThan(live * 1.15 + 64 * 4096);
    expect(report.extentsMoved).toBeGreaterThan(0);
    const store = CartridgeStore.open(path, { passphrase: options.passphrase });
    expect(await readModel(store, model)).toEqual([]);
    expect(checkPageOwnership(store.file)).toEqual(clean);
    store.close();
    expect((await checkCartridge(path, { passphrase: options.passphrase })).errors).toEqual([]);
  }, 60_000);

  it('with a snapshot: the snapshot reads as it was, and compaction after deleting it shrinks the file', async () => {
    const path = nextPath();
    let store = CartridgeStore.create(path, { extentSize: 65536, compression: Compression.NONE });
    const v1 = new Map<string, Uint8Array>();
    for (let i = 0; i < 10; i++) {
      v1.set(`/a${i}`, patternBytes(100_000, i + 50));
      await store.writeFile(`/a${i}`, v1.get(`/a${i}`)!);
    }
    store.commit();
    store.createSnapshot('v1');
    store.commit();
    const now = new Map<string, Uint8Array>();
    for (let i = 0; i < 10; i++) {
      if (i % 2 === 0) store.remove(`/a${i}`);
      else {
        now.set(`/a${i}`, patternBytes(90_000, i + 500));
        await store.writeFile(`/a${i}`, now.get(`/a${i}`)!);
      }
    }
    store.commit();
    store.commit();
    store.close();
    let file = openCartridgeFile(path, { writable: true });
    compactCartridge(file);
    closeCartridgeFile(file);
    const snapshot = CartridgeStore.open(path, { snapshot: 'v1' });
    expect(await readModel(snapshot, v1)).toEqual([]);
    snapshot.close();
    store = CartridgeStore.open(path, { writable: true });
    expect(await readModel(store, now)).toEqual([]);
    expect(checkPageOwnership(store.file)).toEqual(clean);
    const withSnapshot = statSync(path).size;
    store.deleteSnapshot('v1');
    store.commit();
    store.close();
    file = openCartridgeFile(path, { writable: true });
    compactCartridge(file);
    closeCartridgeFile(file);
    expect(statSync(path).size).toBeLessThan(withSnapshot * 0.75);
    store = CartridgeStore.open(path);
    expect(await readModel(store, now)).toEqual([]);
    expect(checkPageOwnership(store.file)).toEqual(clean);
    store.close();
  }, 60_000);
});

describe('seal and verify (§12)', () => {
  const keys = generateKeyPairSync('ed25519');
  const privatePem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const publicPem = keys.publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string;

  it.each([
    ['plain', undefined],
    ['encrypted', 'seal me'],
  ] as const)('%s: the sealed copy is compact, reads the same, verifies, refuses writes, and any changed byte breaks the seal', async (_name, passphrase) => {
    const path = nextPath();
    const model = await halfDeleted(path, { passphrase });
    const sealed = `${path}.sealed`;
    const source = openCartridgeFile(path, { passphrase });
    const report = sealCartridge(source, sealed, ed25519PrivateKey(privatePem), { nowMs: 1_700_000_000_000 });
    closeCartridgeFile(source);
    expect(statSync(sealed).size).toBe(report.bytes);
    expect(report.bytes).toBeLessThan(statSync(path).size * 0.7);
    const check = verifySeal(sealed, ed25519PublicKey(publicPem));
    expect(check).toMatchObject({ sealed: true, valid: true, problems: [], sealedMs: 1_700_000_000_000 });
    expect(verifySeal(sealed, ed25519PublicKey(other)).valid).toBe(false);
    expect(verifySeal(path, ed25519PublicKey(publicPem))).toMatchObject({ sealed: false, valid: false });
    const store = CartridgeStore.open(sealed, { passphrase });
    expect(await readModel(store, model)).toEqual([]);
    store.close();
    expect((await checkCartridge(sealed, { passphrase })).errors).toEqual([]);
    let code = '';
    try {
      CartridgeStore.open(sealed, { writable: true, passphrase });
    } catch (error) {
      code = (error as DiskkitError).code;
    }
    expect(code).toBe('E_READ_ONLY');
    // One flipped bit anywhere before the SEAL page: the hash no longer matches.
    const bytes = readFileSync(sealed);
    for (const at of [100, 4096 + 70, bytes.length - 4096 - 1, Math.floor(bytes.length / 2)]) {
      const copy = Buffer.from(bytes);
      copy[at]! ^= 0x10;
      writeFileSync(`${sealed}.x`, copy);
      const result = (() => {
        try {
          return verifySeal(`${sealed}.x`, ed25519PublicKey(publicPem));
        } catch (error) {
          return { valid: false, problems: [(error as DiskkitError).message] };
        }
      })();
      expect(result.valid).toBe(false);
      expect(result.problems.length).toBeGreaterThan(0);
    }
  }, 60_000);

  it('a key that is not Ed25519 is a usage error saying so', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(() => ed25519PrivateKey(rsa)).toThrow(/rsa key, not Ed25519/);
    expect(() => ed25519PublicKey('not a key')).toThrow(/not a PEM public key/);
  });
});
