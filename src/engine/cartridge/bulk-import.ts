/**
 * Fills an empty Cartridge from a host directory in one pass (mkfs --from, and cp -r
 * into an empty image), building the catalog bottom-up (docs/cartridge-format.md §7.1
 * "Bulk build"): directories are numbered breadth first and each one's entries are
 * taken in name-byte order, so the catalog entries come out already sorted by (parent
 * id, name) and stream into the leaves with no sort and no catalog in memory; only the
 * queue of directories is kept. File data is written as each entry is reached.
 *
 * The host side (listing, open/fstat/read/close of each file) runs on a second thread
 * (io/host-tree-reader.ts) in that same order; files too big for its slots are opened
 * and streamed here.
 */
import { closeSync, openSync } from 'node:fs';
import { normalize } from 'node:path';
import { HostTreeReader, RecordKind, type RecordKindId } from '../../io/host-tree-reader.js';
import { readHostFileFully } from '../../io/read-full.js';
import { nextDataOffset } from '../../io/seek-data.js';
import { DiskkitError, ErrorCode, fromSystemError } from '../errors.js';
import { ROOT_DIRECTORY_ID, ROOT_ENTRY_KEY, catalogKeyOfBytes, encodeCatalogKey } from './catalog-key.js';
import { type InodeRecord, InodeKind, encodeInodeRecord } from './inode-record.js';
import { type CartridgeStore } from './store.js';
import type { CompressionId } from './superblock.js';
import type { HostImportResult } from '../volume.js';

export interface ImportOptions {
  /** The time an entry gets from its host mtime (ms): as it is, or clamped for reproducible images. */
  mtimeOf(mtimeMs: number): number;
  compression?: CompressionId;
  /** Make the tree a new directory of this name in the root (cp -r SRC IMAGE:/NAME), rather than the root itself. */
  into?: string;
  /** The root entry's value to keep (cp into an existing empty image); else the root takes the host directory's time (mkfs --from). */
  rootValue?: Uint8Array;
  /** Called for each directory and file written (cp --json's list), with its image path and host path. */
  onEntry?(path: string, type: 'file' | 'dir', size: number, from: string): void;
  /** A reader of `dir` already started (and closed) by the caller; else one is started here. */
  reader?: HostTreeReader;
}

/** What an import copied and skipped: the Volume's importHostTree result. */
export type ImportResult = HostImportResult;

/** A directory whose entries the reader will list: where it is on the host and in the image. */
interface Queued {
  host: string;
  id: number;
  /** Image path (kept for onEntry). */
  path: string;
  /** Its own entry failed (a bad name): its entries are dropped, unreported. */
  dropped: boolean;
}

function imageChild(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

export function importHostTree(store: CartridgeStore, dir: string, options: ImportOptions): ImportResult {
  const result: ImportResult = { files: 0, directories: 0, bytes: 0, skipped: [], errors: [] };
  // Ids come from the store's counter, which packs written on the way draw from too (§7.5).
  const newId = () => store.newInodeId();
  if (options.reader && options.reader.root !== dir) throw new Error(`reader of ${options.reader.root} given to import ${dir}`);
  const reader = options.reader ?? HostTreeReader.start(dir);
  const error = (path: string, e: DiskkitError): void => {
    result.errors.push({ path, code: e.code, message: e.message });
  };
  const directory = (id: number, mtimeMs: number): Uint8Array => encodeInodeRecord({ id, kind: InodeKind.DIRECTORY, permissions: 0, size: 0, mtimeMs: options.mtimeOf(mtimeMs), data: { mode: 'empty' } });

  function* entries(): Generator<readonly [Uint8Array, Uint8Array]> {
    if (!reader.next() || reader.kind !== RecordKind.ROOT) throw hostFailure(reader, dir);
    const top: Queued = { host: normalize(dir).replace(/(.)\/+$/, '$1'), id: ROOT_DIRECTORY_ID, path: '/', dropped: false };
    yield [ROOT_ENTRY_KEY, options.rootValue ?? directory(ROOT_DIRECTORY_ID, reader.mtimeMs)];
    if (options.into !== undefined) {
      top.id = newId();
      top.path = `/${options.into}`;
      result.directories++;
      options.onEntry?.(top.path, 'dir', 0, dir);
      yield [encodeCatalogKey(ROOT_DIRECTORY_ID, options.into), directory(top.id, reader.mtimeMs)];
    }
    const queue: Queued[] = [top];
    let q = -1;
    let current = top;
    while (reader.next()) {
      // (Widened: the check of the ROOT record above narrowed the property for the compiler.)
      const kind = reader.kind as RecordKindId;
      if (kind === RecordKind.DIR_BEGIN || kind === RecordKind.DIR_ERROR) {
        current = queue[++q]!;
        if (kind === RecordKind.DIR_ERROR && !current.dropped) error(current.host, hostError(reader, current.host));
        continue;
      }
      if (kind === RecordKind.FATAL) throw hostFailure(reader, current.host);
      if (current.dropped) {
        if (kind === RecordKind.DIRECTORY) queue.push({ host: '', id: 0, path: '', dropped: true });
        continue;
      }
      // Names and host paths are strings only where needed (a file's own copy needs neither):
      // the key is made from the name's bytes, which the reader checked are UTF-8.
      const key = kind === RecordKind.BAD_NAME ? null : catalogKeyOfBytes(current.id, reader.nameBytes);
      if (key === null) {
        const host = hostPath(current.host, reader.name);
        // The reader still lists a directory whose entry failed: keep the queues in step.
        if (kind === RecordKind.DIRECTORY) queue.push({ host, id: 0, path: '', dropped: true });
        error(host, new DiskkitError(ErrorCode.BAD_NAME, `invalid name ${JSON.stringify(reader.name)}${kind === RecordKind.BAD_NAME ? ' (not UTF-8)' : ''}`, { context: { path: host } }));
        continue;
      }
      switch (kind) {
        case RecordKind.DIRECTORY: {
          const id = newId();
          const host = hostPath(current.host, reader.name);
          const path = options.onEntry ? imageChild(current.path, reader.name) : '';
          queue.push({ host, id, path, dropped: false });
          result.directories++;
          options.onEntry?.(path, 'dir', 0, host);
          yield [key, directory(id, reader.mtimeMs)];
          break;
        }
        case RecordKind.FILE:
        case RecordKind.BIG_FILE: {
          const size = reader.size;
          const data = kind === RecordKind.FILE ? store.storeBytes(reader.data, options.compression) : streamed(store, hostPath(current.host, reader.name), size, options.compression);
          if (data instanceof DiskkitError) {
            error(hostPath(current.host, reader.name), data);
            break;
          }
          result.files++;
          result.bytes += size;
          options.onEntry?.(imageChild(current.path, reader.name), 'file', size, hostPath(current.host, reader.name));
          yield [key, encodeInodeRecord({ id: newId(), kind: InodeKind.FILE, permissions: 0, size, mtimeMs: options.mtimeOf(reader.mtimeMs), data })];
          break;
        }
        default:
          reportOther(kind, hostPath(current.host, reader.name));
      }
    }
  }

  function reportOther(kind: RecordKindId, host: string): void {
    switch (kind) {
      case RecordKind.SYMLINK:
        result.skipped.push({ path: host, reason: 'symbolic link not copied (a Cartridge stores no links)', kind: 'link' });
        break;
      case RecordKind.OTHER:
        result.skipped.push({ path: host, reason: 'not a regular file or directory', kind: 'other' });
        break;
      case RecordKind.LOOP:
        error(host, new DiskkitError(ErrorCode.CHAIN_LOOP, 'directory loop (a mount of one of its ancestors); skipped', { context: { path: host } }));
        break;
      case RecordKind.SHORT:
        error(host, new DiskkitError(ErrorCode.SHORT_READ, 'file shrank while being copied', { context: { path: host } }));
        break;
      default:
        error(host, hostError(reader, host));
    }
  }

  try {
    // The root entry is not counted (as mkfs counts it: fileCount starts at 0).
    store.adoptCatalog(entries(), () => ({ fileCount: result.files + result.directories }));
  } finally {
    if (!options.reader) reader.close();
  }
  return result;
}

/** `name` in the host directory `dir` (as path.join gives it: the walk's root is normalized once). */
function hostPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : dir === '.' ? name : `${dir}/${name}`;
}

/** A file too big for the reader's slots, streamed from the host here; a host-side failure is returned (the entry is skipped), an image-side one thrown. */
function streamed(store: CartridgeStore, path: string, size: number, compression: CompressionId | undefined): InodeRecord['data'] | DiskkitError {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    return fromSystemError(e, path, 'open');
  }
  let hostFailure: DiskkitError | null = null;
  try {
    return store.storeData({
      size,
      read: (buf, length, position) => {
        try {
          readHostFileFully(fd, buf, length, position, path);
        } catch (e) {
          hostFailure = e as DiskkitError;
          throw e;
        }
      },
      // Holes are found with SEEK_DATA where the system has it and never read, as in a copy of one file.
      nextData: (position) => nextDataOffset(fd, position, size) ?? position,
    }, { compression });
  } catch (e) {
    if (hostFailure) return hostFailure;
    throw e;
  } finally {
    closeSync(fd);
  }
}

function hostError(reader: HostTreeReader, path: string): DiskkitError {
  const { action, code, message } = reader.error;
  return fromSystemError(Object.assign(new Error(message), code ? { code } : {}), path, action);
}

function hostFailure(reader: HostTreeReader, path: string): DiskkitError {
  return reader.kind === RecordKind.FATAL ? hostError(reader, path) : new DiskkitError(ErrorCode.IO, 'the host reader ended early', { context: { path } });
}
