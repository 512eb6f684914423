/**
 * Walking a volume's tree through the format-neutral interface: Volume.walk where the
 * format has one (FAT decodes straight from directory bytes), else the same walk
 * built on Volume.list, so commands have one code path for every format.
 */
import { DiskkitError, ErrorCode } from './errors.js';
import { walkLimitExceeded } from './limits.js';
import type { EntryInfo, Volume, WalkEntry, WalkOptions, WalkVisitor } from './volume.js';

/** Walks from `start` with the volume's own walk when it has one. */
export function walkVolume(volume: Volume, start: string | EntryInfo, options: WalkOptions, visitor: WalkVisitor): void {
  if (volume.walk) volume.walk(start, options, visitor);
  else walkWithList(volume, start, options, visitor);
}

/** Volume.walk's contract implemented with Volume.list (one EntryInfo per entry). */
export function walkWithList(volume: Volume, start: string | EntryInfo, options: WalkOptions, visitor: WalkVisitor): void {
  const list = volume.list as (p: string | EntryInfo, o: WalkOptions) => EntryInfo[];
  const entry: WalkEntry = { parent: '/', name: '', shortName: null, type: 'file', size: 0, mtimeMs: Number.NaN, ctimeMs: Number.NaN, atimeMs: Number.NaN, attributes: [], deleted: false, dot: false };
  // An explicit stack, not recursion: a hostile image may nest directories very deep.
  const stack: { dir: string | EntryInfo; depth: number }[] = [{ dir: start, depth: 0 }];
  while (stack.length > 0) {
    const { dir, depth } = stack.pop()!;
    const path = typeof dir === 'string' ? dir : dir.path;
    let entries: EntryInfo[];
    const tooDeep = walkLimitExceeded(path, depth);
    if (tooDeep) {
      visitor.error(path, depth, new DiskkitError(ErrorCode.LIMIT, tooDeep, { context: { path } }));
      continue;
    }
    try {
      entries = list.call(volume, dir, { deleted: options.deleted, dotEntries: options.dotEntries });
    } catch (error) {
      visitor.error(path, depth, error);
      continue;
    }
    visitor.directory(path, depth);
    const children: EntryInfo[] = [];
    for (const e of entries) {
      // EntryInfo does not say; by name, which also keeps a long name spelled '..' from being descended into.
      const dot = e.name === '.' || e.name === '..';
      entry.parent = path;
      entry.name = e.name;
      entry.shortName = e.shortName;
      entry.type = e.type;
      entry.size = e.size;
      entry.mtimeMs = e.mtime === null ? Number.NaN : e.mtime.getTime();
      entry.ctimeMs = e.ctime === null ? Number.NaN : e.ctime.getTime();
      entry.atimeMs = e.atime === null ? Number.NaN : e.atime.getTime();
      entry.attributes = e.attributes;
      entry.deleted = e.deleted === true;
      entry.dot = dot;
      if (visitor.entry(entry) && options.recursive && e.type === 'dir' && !dot && !entry.deleted) children.push(e);
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push({ dir: children[i]!, depth: depth + 1 });
  }
}

/** One EntryInfo as the WalkEntry a walk would report for it (a single file given to ls -R or a listing export). */
export function walkEntryOf(e: EntryInfo): WalkEntry {
  const slash = e.path.lastIndexOf('/');
  return {
    parent: slash <= 0 ? '/' : e.path.slice(0, slash),
    name: e.name,
    shortName: e.shortName,
    type: e.type,
    size: e.size,
    mtimeMs: e.mtime === null ? Number.NaN : e.mtime.getTime(),
    ctimeMs: e.ctime === null ? Number.NaN : e.ctime.getTime(),
    atimeMs: e.atime === null ? Number.NaN : e.atime.getTime(),
    attributes: e.attributes,
    deleted: e.deleted === true,
    dot: false,
  };
}
