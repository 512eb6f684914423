/**
 * Names that the image's format takes for the same one (Volume.nameKey). FAT compares
 * names case-insensitively, so `OK.TXT` and `ok.txt` from a case-sensitive host would
 * land on one entry and the second would silently replace the first; a case-sensitive
 * format (Cartridge) keeps both. Before a copy writes anything, its plan
 * is checked for such clashes and each is settled by the `--on-clash` policy
 * (mcopy asks the same question with `-D`): fail (default: report E_NAME_CLASH
 * naming both sources, copy the rest), skip, rename (`ok (2).txt`), or overwrite.
 * Two directories that differ only in case merge, as on any case-insensitive file
 * system; their files are still compared one by one. Names the format changed because
 * it cannot store them (storable-names.ts: `a.` stored as `a`) meet the same policy,
 * also against entries already in the image, which a changed name must not replace
 * unasked.
 */
import { InvalidArgumentError } from 'commander';
import { DiskkitError, ErrorCode } from '../engine/errors.js';

export const CLASH_POLICIES = ['fail', 'skip', 'rename', 'overwrite'] as const;
export type ClashPolicy = (typeof CLASH_POLICIES)[number];

export function parseClashPolicy(value: string): ClashPolicy {
  if (!(CLASH_POLICIES as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${CLASH_POLICIES.join(', ')}`);
  return value as ClashPolicy;
}

export const ON_CLASH_HELP = "when two sources get the same name in the image (FAT ignores case: OK.TXT and ok.txt): fail (report it, copy the rest), skip, rename or overwrite";

/** What the plan needs to expose: where an item goes and whether it is a directory. */
export interface ClashItem {
  kind: string;
  dest: string;
}

/** How the format sees a path: each component through its own name comparison. */
function pathKey(path: string, nameKey: (name: string) => string): string {
  return path.split('/').map(nameKey).join('/');
}

function renamed(dest: string, n: number): string {
  const slash = dest.lastIndexOf('/');
  const name = dest.slice(slash + 1);
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  return `${dest.slice(0, slash + 1)}${stem} (${n})${ext}`;
}

export interface ClashOutcome<T> {
  /** The plan with clashing items dropped (fail, skip) or moved (rename), subtrees included. */
  plan: T[];
  /** Each clash, for the caller to report (as an error under fail, a note otherwise). */
  clashes: { dest: string; source: string; other: string; resolution: ClashPolicy; renamedTo?: string; inImage?: boolean }[];
}

/**
 * Settles clashes in `plan` (items in walk order: a directory before its contents).
 * `existsInImage` answers whether a renamed destination is already taken in the image;
 * `nameKey` is the volume's name comparison. `takenInImage` says whether an item whose
 * name the format chose (storable-names.ts) lands on an entry already in the image
 * (other than a directory merging into a directory): a clash too, with `other` that
 * entry, since the user never asked for that name.
 */
export function resolveClashes<T extends ClashItem>(
  plan: T[],
  policy: ClashPolicy,
  sourceOf: (item: T) => string,
  existsInImage: (path: string) => boolean,
  nameKey: (name: string) => string,
  takenInImage?: (item: T) => boolean,
): ClashOutcome<T> {
  // A plan lists a directory's entries together: each parent's folded path is made once, not once per entry.
  const parentKeys = new Map<string, string>();
  const foldPath = (path: string): string => {
    const slash = path.lastIndexOf('/');
    if (slash < 0) return pathKey(path, nameKey);
    const parent = path.slice(0, slash);
    let key = parentKeys.get(parent);
    if (key === undefined) {
      key = pathKey(parent, nameKey);
      parentKeys.set(parent, key);
    }
    return `${key}/${nameKey(path.slice(slash + 1))}`;
  };
  const claimed = new Map<string, T>();
  const out: T[] = [];
  const clashes: ClashOutcome<T>['clashes'] = [];
  /** Subtrees moved or dropped: [old prefix, new prefix or null]. */
  const moves: [string, string | null][] = [];
  for (const original of plan) {
    let item = original;
    const move = moves.find(([from]) => item.dest.startsWith(from + '/'));
    if (move) {
      if (move[1] === null) continue;
      item = { ...item, dest: move[1] + item.dest.slice(move[0].length) };
    }
    const key = foldPath(item.dest);
    const first = claimed.get(key);
    if (!first && takenInImage?.(item)) {
      const clash = { dest: item.dest, source: sourceOf(item), other: item.dest, inImage: true };
      if (policy === 'rename') {
        let n = 2;
        while (claimed.has(foldPath(renamed(item.dest, n))) || existsInImage(renamed(item.dest, n))) n++;
        const to = renamed(item.dest, n);
        clashes.push({ ...clash, resolution: 'rename', renamedTo: to });
        if (item.kind === 'dir') moves.push([item.dest, to]);
        item = { ...item, dest: to };
        claimed.set(foldPath(to), item);
        out.push(item);
      } else if (policy === 'overwrite') {
        clashes.push({ ...clash, resolution: policy });
        claimed.set(key, item);
        out.push(item);
      } else {
        clashes.push({ ...clash, resolution: policy });
        if (item.kind === 'dir') moves.push([item.dest, null]);
      }
      continue;
    }
    const bothDirs = first && first.kind === 'dir' && item.kind === 'dir';
    if (!first || bothDirs || policy === 'overwrite') {
      if (first && policy === 'overwrite' && !bothDirs) clashes.push({ dest: item.dest, source: sourceOf(item), other: sourceOf(first), resolution: 'overwrite' });
      if (!first) claimed.set(key, item);
      out.push(item);
      continue;
    }
    if (policy === 'rename') {
      let n = 2;
      while (claimed.has(foldPath(renamed(item.dest, n))) || existsInImage(renamed(item.dest, n))) n++;
      const to = renamed(item.dest, n);
      clashes.push({ dest: item.dest, source: sourceOf(item), other: sourceOf(first), resolution: 'rename', renamedTo: to });
      if (item.kind === 'dir') moves.push([item.dest, to]);
      item = { ...item, dest: to };
      claimed.set(foldPath(to), item);
      out.push(item);
      continue;
    }
    clashes.push({ dest: item.dest, source: sourceOf(item), other: sourceOf(first), resolution: policy });
    if (item.kind === 'dir') moves.push([item.dest, null]);
  }
  return { plan: out, clashes };
}

/** The error a clash under `--on-clash fail` is reported with: both sources named. */
export function clashError(clash: { dest: string; source: string; other: string; inImage?: boolean }): DiskkitError {
  const name = (path: string): string => path.slice(path.lastIndexOf('/') + 1);
  // Names that differ beyond case met because the format changed one (`a.` stored as `a`).
  const why = clash.inImage
    ? `it would be stored as '${clash.dest}', which the image already holds`
    : name(clash.source).toLowerCase() === name(clash.other).toLowerCase()
      ? `the image's format ignores case, and '${clash.other}' already goes to that name`
      : `it would be stored as '${clash.dest}', where '${clash.other}' already goes`;
  return new DiskkitError(ErrorCode.NAME_CLASH, `'${clash.source}' not copied: ${why}`, {
    context: { path: clash.dest },
    hint: 'use --on-clash rename|skip|overwrite to choose what happens',
  });
}
