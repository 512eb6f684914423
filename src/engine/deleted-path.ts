/**
 * Paths that may pass through entries marked deleted (`cat --deleted`, `cp --deleted`):
 * each name is looked for among its directory's live entries first and, only when none
 * has it, among the deleted ones, compared as the format compares names. A volume
 * without deleted entries resolves paths as Volume.stat does.
 */
import { DiskkitError, ErrorCode } from './errors.js';
import type { EntryInfo, Volume } from './volume.js';
import { joinPath, splitPath } from './volume-path.js';

export function statIncludingDeleted(volume: Volume, path: string): EntryInfo {
  try {
    return volume.stat(path);
  } catch (error) {
    if (!(error instanceof DiskkitError && error.code === ErrorCode.NOT_FOUND) || !volume.capabilities.deletedEntries) throw error;
  }
  let entry = volume.stat('/');
  let current = '/';
  for (const name of splitPath(path)) {
    if (entry.type !== 'dir') throw new DiskkitError(ErrorCode.NOT_A_DIRECTORY, 'not a directory', { context: { path: current } });
    const key = volume.nameKey(name);
    const children = volume.list(entry, { deleted: true });
    const match = children.find((c) => !c.deleted && volume.nameKey(c.name) === key) ?? children.find((c) => c.deleted === true && volume.nameKey(c.name) === key);
    if (match === undefined) throw new DiskkitError(ErrorCode.NOT_FOUND, 'no such file or directory, live or deleted', { context: { path: joinPath(current, name) } });
    entry = match;
    current = match.path;
  }
  return entry;
}
