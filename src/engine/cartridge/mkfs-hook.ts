/**
 * Cartridge's mkfs (diskkit mkfs --type cartridge): a new image file, optionally filled
 * from a host directory by the bulk import. The image is written under a temporary
 * name beside the target and renamed over it when complete, so a failure (or a kill)
 * never leaves a half-made image under the target's name.
 *
 * Reproducible (--invariant / SOURCE_DATE_EPOCH): creation and commit times are fixed,
 * the uuid is derived from them (§3), entry times are the host's clamped to the epoch,
 * and the import order is fixed (breadth first, name bytes), so the same tree gives the
 * same bytes. Encrypted images cannot be byte-identical (random uuid, master key, salt
 * and nonces, §10): their reproducible part is the content and layout.
 */
import { existsSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { formatBytes } from '../byte-size.js';
import { DiskkitError, ErrorCode } from '../errors.js';
import type { MkfsFilled, MkfsOutcome, MkfsRequest } from '../formats.js';
import { passphraseFor } from '../passphrase.js';
import { importHostTree } from './bulk-import.js';
import { ChecksumAlgorithm, type ChecksumAlgorithmId } from './checksum.js';
import { compressionId } from './cartridge-volume.js';
import { CartridgeStore } from './store.js';

function usage(message: string): DiskkitError {
  return new DiskkitError(ErrorCode.USAGE, message);
}

function checksumId(name: string | undefined): ChecksumAlgorithmId {
  if (name === undefined || name === 'crc32') return ChecksumAlgorithm.CRC32;
  if (name === 'sha256') return ChecksumAlgorithm.SHA256;
  throw usage(`--checksum must be crc32 or sha256, not '${name}'`);
}

/** Refuses what a Cartridge has no use for, before any file is made; the size is the file's own (it grows). */
export function planCartridgeMkfs(request: MkfsRequest): Promise<number | undefined> {
  if (request.partition !== undefined) throw usage('a Cartridge is a whole image file: --partition cannot hold one');
  if (request.size !== undefined) throw usage('a Cartridge grows as it is filled: leave out --size');
  if (request.clusterSize !== undefined) throw usage('--cluster-size is for FAT; a Cartridge has 4 KiB pages');
  if (request.label !== '') throw usage('a Cartridge has no volume label');
  compressionId(request.compression ?? 'lz4');
  checksumId(request.checksum);
  if (!request.force && existsSync(request.image) && statSync(request.image).size > 0) {
    throw new DiskkitError(ErrorCode.EXISTS, 'image exists and is not empty: nothing was written', { context: { image: request.image }, hint: 'use --force to replace it' });
  }
  return Promise.resolve(undefined);
}

export function noTargetFormat(): never {
  throw new DiskkitError(ErrorCode.UNSUPPORTED, 'Cartridge images are made by mkfs create, not formatted in place');
}

export async function createCartridge(request: MkfsRequest): Promise<MkfsOutcome & { filled: MkfsFilled | null }> {
  const compression = compressionId(request.compression ?? 'lz4');
  const checksumAlgorithm = checksumId(request.checksum);
  let passphrase: string | undefined;
  if (request.encrypt) {
    passphrase = passphraseFor(request.image, 'create');
    if (passphrase === undefined || passphrase === '') {
      throw new DiskkitError(ErrorCode.BAD_PASSPHRASE, '--encrypt needs a passphrase', { context: { reason: 'passphrase-needed' }, hint: 'set DISKKIT_PASSPHRASE, use --key-file FILE, or run on a terminal to be asked' });
    }
  }
  // Reproducible: every time comes from SOURCE_DATE_EPOCH (or 0 with --invariant alone).
  const fixedMs = request.reproducible ? (request.epoch ?? 0) * 1000 : undefined;
  // A host time truncated to the millisecond, as every copy in takes it (write-times.ts; cp -r gives the same image).
  const mtimeOf = (mtimeMs: number): number => (fixedMs !== undefined && request.epoch !== undefined ? Math.min(Math.floor(mtimeMs), fixedMs) : Math.floor(mtimeMs));
  const temporary = join(dirname(request.image), `.${basename(request.image)}.mkfs-${process.pid}`);
  let store: CartridgeStore | null = null;
  let filled: MkfsFilled | null = null;
  try {
    store = CartridgeStore.create(temporary, { compression, checksumAlgorithm, passphrase, invariantMs: fixedMs, nowMs: fixedMs });
    if (request.from !== undefined) {
      const result = importHostTree(store, request.from.dir, { mtimeOf, compression });
      if (result.errors.length > 0) {
        throw new DiskkitError(result.errors[0]!.code as never, `${result.errors.length} ${result.errors.length === 1 ? 'problem' : 'problems'} copying '${request.from.dir}'; no image was left`, {
          context: { errors: result.errors },
        });
      }
      store.commit();
      filled = { files: result.files, directories: result.directories, bytes: result.bytes, skipped: result.skipped };
    }
    store.close();
    store = null;
    renameSync(temporary, request.image);
  } catch (error) {
    store?.close();
    try {
      unlinkSync(temporary);
    } catch {
      // nothing was created
    }
    // The temporary name is ours, not the user's: an error about it names the image asked for.
    if (error instanceof DiskkitError && error.context.path === temporary) error.context.path = request.image;
    throw error;
  }
  const size = statSync(request.image).size;
  const encrypted = passphrase !== undefined;
  const compressionText = request.compression ?? 'lz4';
  return {
    fields: { format: 'cartridge', size, compression: compressionText, checksum: request.checksum ?? 'crc32', encrypted, reproducible: request.reproducible },
    summary: `Cartridge image (${compressionText}, ${request.checksum ?? 'crc32'}${encrypted ? ', AES-256-GCM' : ''}), ${formatBytes(size)}`,
    warnings: [],
    filled,
  };
}
