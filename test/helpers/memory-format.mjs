/**
 * A throwaway format for test/format-registry.test.ts, loaded into the real CLI through
 * DISKKIT_EXTRA_FORMAT_MODULE (test only). An image is the magic line "DISKKIT-MEMFS\n"
 * and a JSON manifest {dirs: [path...], files: {path: base64}}; opening reads it into a
 * Map. It offers no raw extents (cat, cp out and bench must use openFile), compares names
 * case-sensitively, and cannot be written.
 */
import { registerFormat } from '../../dist/engine/formats.js';
import { DiskkitError, ErrorCode } from '../../dist/engine/errors.js';

export const MAGIC = 'DISKKIT-MEMFS\n';

const CAPABILITIES = { writable: false, formatWritable: false, caseInsensitive: false, shortNames: false, streams: false, hardLinks: false, deletedEntries: false, snapshots: false, encryption: false, rawExtents: false };

function readOnly() {
  throw new DiskkitError(ErrorCode.READ_ONLY, 'memfs cannot be written');
}

function openMemfs(source) {
  const raw = new Uint8Array(source.size);
  source.readAt(raw, 0, raw.length, 0);
  const manifest = JSON.parse(Buffer.from(raw.subarray(MAGIC.length)).toString('utf8'));
  /** path -> EntryInfo, and path -> bytes for files */
  const entries = new Map();
  const bytes = new Map();
  const add = (path, type, size) => entries.set(path, { path, name: path === '/' ? '/' : path.slice(path.lastIndexOf('/') + 1), shortName: null, type, size, mtime: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)), ctime: null, atime: null, attributes: [] });
  add('/', 'dir', 0);
  for (const dir of manifest.dirs) add(dir, 'dir', 0);
  for (const [path, b64] of Object.entries(manifest.files)) {
    const data = Buffer.from(b64, 'base64');
    bytes.set(path, data);
    add(path, 'file', data.length);
  }
  const stat = (path) => {
    const p = typeof path === 'string' ? (path.replace(/\/+$/, '').replace(/\/\.$/, '') || '/') : path.path;
    const entry = entries.get(p);
    if (!entry) throw new DiskkitError(ErrorCode.NOT_FOUND, 'no such file or directory', { context: { path: p } });
    return entry;
  };
  return {
    format: 'memfs',
    source,
    capabilities: CAPABILITIES,
    warnings: [],
    partition: null,
    info: () => {
      const used = [...bytes.values()].reduce((n, b) => n + b.length, 0);
      return { format: 'memfs', totalBytes: source.size, freeBytes: 0, usedBytes: used, label: 'MEMORY', files: bytes.size, details: [{ label: 'type', value: 'memfs (test format)' }, { label: 'files', value: String(bytes.size) }] };
    },
    stat,
    list: (path) => {
      const dir = stat(path);
      if (dir.type !== 'dir') throw new DiskkitError(ErrorCode.NOT_A_DIRECTORY, 'not a directory', { context: { path: dir.path } });
      const prefix = dir.path === '/' ? '/' : dir.path + '/';
      return [...entries.values()].filter((e) => e.path !== '/' && e.path.startsWith(prefix) && !e.path.slice(prefix.length).includes('/')).sort((a, b) => (a.name < b.name ? -1 : 1));
    },
    openFile: (path) => {
      const entry = stat(path);
      if (entry.type === 'dir') throw new DiskkitError(ErrorCode.IS_A_DIRECTORY, 'is a directory', { context: { path: entry.path } });
      const data = bytes.get(entry.path);
      return {
        size: data.length,
        read(buf, length, position) {
          if (position < 0 || position + length > data.length) throw new DiskkitError(ErrorCode.SHORT_READ, 'past the end', { context: { path: entry.path } });
          buf.set(data.subarray(position, position + length));
        },
      };
    },
    readFile: (path) => Buffer.from(bytes.get(stat(path).path)),
    nameKey: (name) => name,
    writeFile: readOnly,
    mkdir: readOnly,
    remove: readOnly,
    rename: readOnly,
    commit() {},
    close() {},
  };
}

registerFormat({
  name: 'memfs',
  title: 'memfs (test format)',
  capabilities: ['read', 'bench'],
  probe: (head) => Buffer.from(head.subarray(0, MAGIC.length)).toString('latin1') === MAGIC,
  open: (source) => openMemfs(source),
});
