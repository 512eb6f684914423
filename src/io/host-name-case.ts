/**
 * Whether the host looks names up case-insensitively where a copy writes: vfat and exFAT
 * mounts, CIFS shares, ext4 directories with casefold, macOS and Windows by default. A
 * copy out of an image whose names differ only in case (NTFS POSIX names, Cartridge)
 * must rename one of them there, or the second file would overwrite the first; on a
 * case-sensitive host both are written as they are, as cp and tsk_recover write them.
 *
 * Tested, not guessed from the file system type (a FUSE mount says nothing of it, and
 * casefold is per directory): a probe file with a lower-case name is made in the
 * directory and looked up in upper case, then removed. Git decides its core.ignorecase
 * the same way.
 */
import { closeSync, lstatSync, openSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * True when names in the directory `path` (when it does not exist yet: the nearest
 * existing directory above it, where it will be made) are compared case-insensitively.
 * Also true when no probe can be made there (read-only, no permission): treating the
 * host as case-insensitive only renames more, it never loses a file.
 */
export function hostFoldsCase(path: string): boolean {
  let dir = resolve(path);
  for (;;) {
    try {
      if (statSync(dir).isDirectory()) break;
    } catch {
      // Not there yet: its parent decides.
    }
    const up = dirname(dir);
    if (up === dir) return true;
    dir = up;
  }
  const name = `.diskkit-case-probe-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const probe = join(dir, name);
  try {
    closeSync(openSync(probe, 'wx'));
  } catch {
    return true;
  }
  try {
    // The name is random: anything found under its upper-case form is the probe itself
    // (inode numbers are not compared; a FUSE file system need not keep them stable).
    return lstatSync(join(dir, name.toUpperCase()), { throwIfNoEntry: false }) !== undefined;
  } catch {
    return true;
  } finally {
    try {
      unlinkSync(probe);
    } catch {
      // Gone already: nothing to clean.
    }
  }
}
