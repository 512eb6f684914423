/**
 * Sealing and verifying (docs/cartridge-format.md §12): `sealCartridge` writes a compacted,
 * read-only copy of an image's current tree (no snapshots, no free space, one meta page)
 * and appends a SEAL page signed with Ed25519; `verifySeal` checks that page against a
 * public key. The copy is written to a temporary name and renamed into place, so a crash
 * never leaves a half-sealed file under the output name.
 */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { type KeyObject, createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { readU64LE, writeU64LE } from '../binary.js';
import { DiskkitError, ErrorCode, fromSystemError } from '../errors.js';
import { BTree } from './btree.js';
import { type CartridgeFile } from './cartridge-file.js';
import { extentContextOf } from './compact.js';
import { FreeSpace } from './free-space.js';
import { FIRST_DATA_PAGE, emptyMeta, selectMetaPage } from './meta-page.js';
import { PAGE_HEADER_SIZE, type PageContext, PageType, sealPage, verifyPageSelf } from './page.js';
import { Pager } from './pager.js';
import { Relocator } from './relocate.js';
import { RoCompatFeature, type Superblock, decodeSuperblock, encodeSuperblock } from './superblock.js';

const SEAL_LABEL = 'diskkit cartridge seal v1';
const PUBLIC_KEY_OFFSET = PAGE_HEADER_SIZE; // 64
const SIGNATURE_OFFSET = PAGE_HEADER_SIZE + 32; // 96
const HASH_OFFSET = PAGE_HEADER_SIZE + 96; // 160
const SEALED_MS_OFFSET = PAGE_HEADER_SIZE + 128; // 192

export interface SealReport {
  out: string;
  pages: number;
  bytes: number;
  files: number;
  snapshotsDropped: number;
  /** SHA-256 of the sealed bytes, hex. */
  sha256: string;
  /** Raw Ed25519 public key, hex. */
  publicKey: string;
  sealedMs: number;
}

function badKey(what: string, hint: string): DiskkitError {
  return new DiskkitError(ErrorCode.USAGE, what, { context: { reason: 'bad-key' }, hint });
}

/** An Ed25519 private key from PEM (PKCS#8), or E_USAGE saying what it is instead. */
export function ed25519PrivateKey(pem: string | Uint8Array): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(typeof pem === 'string' ? pem : Buffer.from(pem));
  } catch {
    throw badKey('the --key file is not a PEM private key', 'make one with: openssl genpkey -algorithm ed25519 -out seal.pem');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw badKey(`the --key file holds an ${key.asymmetricKeyType} key, not Ed25519`, 'make one with: openssl genpkey -algorithm ed25519 -out seal.pem');
  return key;
}

/** An Ed25519 public key from PEM (SPKI; a private key's public half is accepted too). */
export function ed25519PublicKey(pem: string | Uint8Array): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(typeof pem === 'string' ? pem : Buffer.from(pem));
  } catch {
    throw badKey('the --pub file is not a PEM public key', 'export it with: openssl pkey -in seal.pem -pubout -out seal.pub');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw badKey(`the --pub file holds an ${key.asymmetricKeyType} key, not Ed25519`, 'export it with: openssl pkey -in seal.pem -pubout -out seal.pub');
  return key;
}

function rawPublicKey(key: KeyObject): Uint8Array {
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(jwk.x!, 'base64url'));
}

function signedMessage(hash: Uint8Array, sealedMs: number): Uint8Array {
  const ms = new Uint8Array(8);
  writeU64LE(ms, 0, sealedMs);
  return Buffer.concat([Buffer.from(SEAL_LABEL), hash, ms]);
}

/** SHA-256 of the first `length` bytes of an open file, read in 1 MiB steps. */
function hashPrefix(fd: number, path: string, length: number): Uint8Array {
  const hash = createHash('sha256');
  const buf = new Uint8Array(1024 * 1024);
  for (let at = 0; at < length; ) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, Math.min(buf.length, length - at), at);
    } catch (error) {
      throw fromSystemError(error, path, 'read image');
    }
    if (n === 0) throw new DiskkitError(ErrorCode.TRUNCATED, `image ends at byte ${at}, before the sealed length ${length}`, { context: { path } });
    hash.update(buf.subarray(0, n));
    at += n;
  }
  return new Uint8Array(hash.digest());
}

/** Writes the sealed copy of `source`'s current tree to `out`, signed with `privateKey`. */
export function sealCartridge(source: CartridgeFile, out: string, privateKey: KeyObject, options: { nowMs?: number } = {}): SealReport {
  const temporary = `${out}.diskkit-seal-${process.pid}`;
  let fd: number;
  try {
    fd = openSync(temporary, 'w+');
  } catch (error) {
    throw fromSystemError(error, out, 'create sealed image');
  }
  let closed = false;
  try {
    const sb = source.superblock;
    const fields: Omit<Superblock, 'readOnly' | 'versionMajor' | 'versionMinor'> = { ...sb, roCompatFeatures: sb.roCompatFeatures | RoCompatFeature.SEALED };
    const ctx: PageContext = source.pager.ctx;
    const pager = new Pager({ fd, path: temporary, ctx, space: new FreeSpace({ pageCount: FIRST_DATA_PAGE, generation: 1 }) });
    pager.writeRaw(0, encodeSuperblock(fields));
    pager.writeRaw(1, new Uint8Array(sb.pageSize));
    pager.writeRaw(2, new Uint8Array(sb.pageSize));
    const relocator = new Relocator({
      source: source.pager,
      target: pager,
      sourceExtents: extentContextOf(source),
      targetExtents: extentContextOf(source),
      freeOld: false,
      shouldMove: () => true,
      place: (count) => pager.allocatePages(count),
    });
    const catalogRoot = relocator.catalog(source.meta.catalogRoot);
    const sealedMs = options.nowMs ?? Date.now();
    const meta = { ...emptyMeta(1, pager.space.pageCount), nextInodeId: source.meta.nextInodeId, fileCount: source.meta.fileCount, commitMs: sealedMs, catalogRoot, keyBlock: source.meta.keyBlock };
    pager.commit(meta);
    const sealAt = meta.pageCount;
    const hash = hashPrefix(fd, temporary, sealAt * sb.pageSize);
    const signature = new Uint8Array(sign(null, signedMessage(hash, sealedMs), privateKey));
    const publicKey = rawPublicKey(privateKey);
    const page = new Uint8Array(sb.pageSize);
    page.set(publicKey, PUBLIC_KEY_OFFSET);
    page.set(signature, SIGNATURE_OFFSET);
    page.set(hash, HASH_OFFSET);
    writeU64LE(page, SEALED_MS_OFFSET, sealedMs);
    // The SEAL page is never encrypted: anyone with the public key can check it.
    sealPage(page, PageType.SEAL, sealAt, 1, { ...ctx, metaKey: null });
    writeSync(fd, page, 0, page.length, sealAt * sb.pageSize);
    fsyncSync(fd);
    closeSync(fd);
    closed = true;
    renameSync(temporary, out);
    const snapshotsDropped = [...new BTree(source.pager, PageType.SNAPSHOT_NODE, source.meta.snapshotRoot).range()].length;
    return {
      out,
      pages: sealAt + 1,
      bytes: (sealAt + 1) * sb.pageSize,
      files: source.meta.fileCount,
      snapshotsDropped,
      sha256: Buffer.from(hash).toString('hex'),
      publicKey: Buffer.from(publicKey).toString('hex'),
      sealedMs,
    };
  } catch (error) {
    if (!closed) closeSync(fd);
    rmSync(temporary, { force: true });
    throw fromSystemError(error, out, 'write sealed image');
  }
}

export interface SealCheck {
  /** False when the image carries no seal at all. */
  sealed: boolean;
  /** Every check passed: the bytes are the ones the key's holder sealed. */
  valid: boolean;
  problems: string[];
  sealedMs: number | null;
  sha256: string | null;
  publicKey: string | null;
}

/** Checks the SEAL page of the image at `path` against `publicKey` (§12). Never throws for a bad seal: it says what is wrong. */
export function verifySeal(path: string, publicKey: KeyObject): SealCheck {
  const check: SealCheck = { sealed: false, valid: false, problems: [], sealedMs: null, sha256: null, publicKey: null };
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw fromSystemError(error, path, 'open image');
  }
  try {
    const head = new Uint8Array(512);
    readSync(fd, head, 0, 512, 0);
    const sb = decodeSuperblock(head);
    const fileBytes = fstatSync(fd).size;
    const pagesInFile = Math.floor(fileBytes / sb.pageSize);
    const read = (page: number): Uint8Array => {
      // A page past the end reads as nothing (the meta page's pageCount is the image's word
      // for where the SEAL page is; a hostile one put the read past what fs.read accepts).
      if (!(page < pagesInFile)) return new Uint8Array(0);
      const buf = new Uint8Array(sb.pageSize);
      const n = readSync(fd, buf, 0, sb.pageSize, page * sb.pageSize);
      return buf.subarray(0, n);
    };
    const ctx: PageContext = { pageSize: sb.pageSize, checksumAlgorithm: sb.checksumAlgorithm, uuid: sb.uuid, metaKey: null };
    check.sealed = (sb.roCompatFeatures & RoCompatFeature.SEALED) !== 0;
    if (!check.sealed) {
      check.problems.push('the image is not sealed (superblock has no SEALED feature)');
      return check;
    }
    const { chosen } = selectMetaPage(read(1), read(2), ctx);
    const sealAt = chosen.pageCount;
    const page = read(sealAt);
    if (page.length < sb.pageSize) {
      check.problems.push(`page ${sealAt}: the SEAL page is missing (image truncated)`);
      return check;
    }
    const self = verifyPageSelf(page, sealAt, ctx);
    if ('problem' in self) check.problems.push(`page ${sealAt}: SEAL page ${self.problem}`);
    else if (self.header.type !== PageType.SEAL) check.problems.push(`page ${sealAt}: type ${self.header.type} where the SEAL page belongs`);
    const stored = page.subarray(HASH_OFFSET, HASH_OFFSET + 32);
    const sealedMs = readU64LE(page, SEALED_MS_OFFSET);
    const embeddedKey = page.subarray(PUBLIC_KEY_OFFSET, PUBLIC_KEY_OFFSET + 32);
    check.sealedMs = sealedMs;
    check.publicKey = Buffer.from(embeddedKey).toString('hex');
    const hash = hashPrefix(fd, path, sealAt * sb.pageSize);
    check.sha256 = Buffer.from(hash).toString('hex');
    if (Buffer.compare(hash, stored) !== 0) check.problems.push(`pages 0..${sealAt - 1}: content differs from the sealed SHA-256 (modified after sealing)`);
    if (Buffer.compare(rawPublicKey(publicKey), embeddedKey) !== 0) check.problems.push('sealed with a different key than the one given');
    if (!verify(null, signedMessage(stored, sealedMs), publicKey, page.subarray(SIGNATURE_OFFSET, SIGNATURE_OFFSET + 64))) check.problems.push(`page ${sealAt}: the Ed25519 signature does not verify with the given key`);
    // Counted in bytes: a tail shorter than a page is something after the SEAL page too.
    const extra = fileBytes - (sealAt + 1) * sb.pageSize;
    if (extra !== 0) check.problems.push(`the file has ${extra > 0 ? `${extra} bytes after` : 'no room for'} the SEAL page`);
    check.valid = check.problems.length === 0;
    return check;
  } finally {
    closeSync(fd);
  }
}
