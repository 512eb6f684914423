/**
 * Names from a copy's source that the destination's format cannot store as they are
 * (FAT: `notes.`, `a?b`, control characters) are stored under the name the format
 * offers (Volume.storableName: `notes`, `a_b`), each with a warning, before clashes are
 * settled: `a.` and `a` both become `a`, and the `--on-clash` policy decides, as for
 * names that differ only in case. mcopy does the same renaming only under `-D a` (and
 * then appends `-1`); without it, and without a terminal to ask on, it skips such files
 * silently and exits 1.
 *
 * Only what lies below the destination operand changes: a name the user typed is
 * theirs, and writing it fails with E_BAD_NAME as in mkdir and mv. A name the format
 * cannot store in any form (`...`) is left as it is, so its write fails with E_BAD_NAME.
 */
import type { ClashItem } from './name-clash.js';

export type StorableNameOf = (name: string) => { name: string; reason: string } | null;

export interface StorablePlan<T> {
  plan: T[];
  /** Source → why its own name changed (a directory's contents follow it silently). */
  renamed: Map<string, string>;
}

/** `plan` with every source-given path component below `typed` replaced by its storable form. */
export function storablePlan<T extends ClashItem>(plan: T[], typed: string, storableName: StorableNameOf | undefined, sourceOf: (item: T) => string): StorablePlan<T> {
  const renamed = new Map<string, string>();
  if (!storableName) return { plan, renamed };
  const prefix = typed === '/' ? '/' : `${typed}/`;
  // A directory's name recurs in every path below it: each name is looked at once.
  const seen = new Map<string, { name: string; reason: string } | null>();
  const storable = (name: string) => {
    let s = seen.get(name);
    if (s === undefined) {
      s = storableName(name);
      seen.set(name, s);
    }
    return s;
  };
  const out = plan.map((item) => {
    if (!item.dest.startsWith(prefix) || item.dest.length === prefix.length) return item;
    const parts = item.dest.slice(prefix.length).split('/');
    let changed = false;
    for (let i = 0; i < parts.length; i++) {
      const s = storable(parts[i]!);
      if (!s) continue;
      parts[i] = s.name;
      changed = true;
      if (i === parts.length - 1) renamed.set(sourceOf(item), s.reason);
    }
    return changed ? { ...item, dest: prefix + parts.join('/') } : item;
  });
  return { plan: out, renamed };
}
