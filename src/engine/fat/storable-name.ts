/**
 * The name a FAT directory stores for a source name it cannot store as it is (a host
 * file called `notes.` or `a?b`, an NTFS POSIX-namespace name, a Cartridge name):
 * each character a long name may not hold (fatgen103 section 7: control characters,
 * `" * / : < > ? \ |`) becomes `_` (as mcopy's autorename and the 8.3 basis name do),
 * then trailing dots and spaces are dropped (Windows drops them when it opens a path,
 * so a name ending in one would not come back as written). A name with nothing left
 * after that (`...`, ` `) has no storable form: the caller refuses it as before.
 *
 * Only copies use this, for names taken from a source; a name the user typed (mkdir,
 * mv, or cp's own destination operand) is refused instead, since the user can type
 * another and a silent change would surprise (see directory-writer.ts validateNewName).
 */
import { MAX_LONG_NAME_UNITS } from './short-name.js';

/** One character at a time: which a long name may not hold. */
const NOT_IN_LONG_NAME = /[\u0000-\u001f"*/:<>?\\|\u007f]/g;
const IS_CONTROL = /[\u0000-\u001f\u007f]/;

export interface StorableName {
  /** What to store instead. */
  name: string;
  /** Why, for a warning: `FAT cannot store '?' or a name ending in a dot or a space`. */
  reason: string;
}

/**
 * The name to store for `name`, or null when `name` needs no change or cannot be
 * changed into anything storable (then writing it fails with E_BAD_NAME saying why).
 */
export function storableLongName(name: string): StorableName | null {
  if (name === '.' || name === '..' || name.length > MAX_LONG_NAME_UNITS) return null;
  const bad = new Set<string>();
  let control = false;
  const replaced = name.replace(NOT_IN_LONG_NAME, (c) => {
    if (IS_CONTROL.test(c)) control = true;
    else bad.add(c);
    return '_';
  });
  const stripped = replaced.replace(/[ .]+$/, '');
  if (stripped === name || stripped === '') return null;
  const parts = [...bad].sort().map((c) => `'${c}'`);
  if (control) parts.push('control characters');
  if (stripped !== replaced) parts.push('a name ending in a dot or a space');
  const list = parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]!}`;
  return { name: stripped, reason: `FAT cannot store ${list}` };
}
