/**
 * Fills a new Cartridge from a host directory in one pass (mkfs --from), building the
 * catalog bottom-up (docs/cartridge-format.md §7.1 "Bulk build"): directories are
 * numbered breadth first and each one's entries are taken in name-byte order, so the
 * catalog entries come out already sorted by (parent id, name) and stream into the
 * leaves with no sort and no catalog in memory; only the queue of directories is kept.
 * File data is written as each entry is reached.
 */
import { closeSync, lstatSync, openSync, readdirSync, statSync, type Stats } from 'node:fs';
import { readHostFileFully } from '../../io/read-full.js';
import { join } from 'node:path';
import { DiskkitError, fromSystemError } from '../errors.js';
import { ROOT_DIRECTORY_ID, ROOT_ENTRY_KEY, encodeCatalogKey, validateName } from './catalog-key.js';
import { type InodeRecord, InodeKind, encodeInodeRecord } from './inode-record.js';
import { type CartridgeStore } from './store.js';
import type { CompressionId } from './superblock.js';

export interface ImportOptions {
  /** The times entries get: host mtime, or a clamped one for reproducible images. */
  mtimeOf(st: Stats): number;
  compression?: CompressionId;
}

export interface ImportResult {
  files: number;
  directories: number;
  bytes: number;
  skipped: { path: string; reason: string }[];
  errors: { path: string; code: string; message: string }[];
}


function byNameBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function importHostTree(store: CartridgeStore, dir: string, options: ImportOptions): ImportResult {
  const result: ImportResult = { files: 0, directories: 0, bytes: 0, skipped: [], errors: [] };
  const rootStat = statSync(dir);
  // Ids come from the store's counter, which packs written on the way draw from too (§7.5).
  const newId = () => store.newInodeId();
  const queue: { host: string; id: number }[] = [{ host: dir, id: ROOT_DIRECTORY_ID }];

  function* entries(): Generator<readonly [Uint8Array, Uint8Array]> {
    const root: InodeRecord = { id: ROOT_DIRECTORY_ID, kind: InodeKind.DIRECTORY, permissions: 0, size: 0, mtimeMs: options.mtimeOf(rootStat), data: { mode: 'empty' } };
    yield [ROOT_ENTRY_KEY, encodeInodeRecord(root)];
    for (let q = 0; q < queue.length; q++) {
      const { host, id: parentId } = queue[q]!;
      let names: string[];
      try {
        names = readdirSync(host).sort(byNameBytes);
      } catch (error) {
        const e = fromSystemError(error, host, 'read directory');
        result.errors.push({ path: host, code: e.code, message: e.message });
        continue;
      }
      for (const name of names) {
        const path = join(host, name);
        try {
          validateName(name);
          const st = lstatSync(path);
          if (st.isSymbolicLink()) {
            result.skipped.push({ path, reason: 'symbolic link not copied (Cartridge 1.0 stores no links)' });
            continue;
          }
          if (st.isDirectory()) {
            const id = newId();
            queue.push({ host: path, id });
            result.directories++;
            yield [encodeCatalogKey(parentId, name), encodeInodeRecord({ id, kind: InodeKind.DIRECTORY, permissions: 0, size: 0, mtimeMs: options.mtimeOf(st), data: { mode: 'empty' } })];
            continue;
          }
          if (!st.isFile()) {
            result.skipped.push({ path, reason: 'not a regular file or directory' });
            continue;
          }
          let fd: number;
          try {
            fd = openSync(path, 'r');
          } catch (error) {
            throw fromSystemError(error, path, 'open');
          }
          let data: InodeRecord['data'];
          try {
            data = store.storeData({ size: st.size, read: (buf, length, position) => readHostFileFully(fd, buf, length, position, path) }, { compression: options.compression });
          } finally {
            closeSync(fd);
          }
          const id = newId();
          result.files++;
          result.bytes += st.size;
          yield [encodeCatalogKey(parentId, name), encodeInodeRecord({ id, kind: InodeKind.FILE, permissions: 0, size: st.size, mtimeMs: options.mtimeOf(st), data })];
        } catch (error) {
          if (!(error instanceof DiskkitError)) throw error;
          result.errors.push({ path, code: error.code, message: error.message });
        }
      }
    }
  }

  // The root entry is not counted (as mkfs counts it: fileCount starts at 0).
  store.adoptCatalog(entries(), () => ({ fileCount: result.files + result.directories }));
  return result;
}
