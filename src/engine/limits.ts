/**
 * Limits on what a hostile image can make diskkit do, in one place: every tree walk
 * (ls -R, cp -r, fsck, the generic walk) and every report uses these, so the same
 * image stops at the same point whichever command reads it.
 */

/** Directory levels below the starting directory a walk descends. Real trees stay far below (Windows' MAX_PATH allows ~130). */
export const MAX_TREE_DEPTH = 1024;

/** Characters of an image path a walk builds; deeper names are reported, not descended into (Linux's PATH_MAX is 4096 bytes). */
export const MAX_PATH_CHARS = 4096;

/** Findings of one code fsck lists one by one; past it they are counted and summarised ("... and N more CODE"). */
export const MAX_FINDINGS_PER_CODE = 1000;

/** Whether `path` at `depth` is past the walk limits; the reason, or null when within them. */
export function walkLimitExceeded(path: string, depth: number): string | null {
  if (depth > MAX_TREE_DEPTH) return `directory is nested deeper than ${MAX_TREE_DEPTH} levels; not descended into`;
  if (path.length > MAX_PATH_CHARS) return `path is longer than ${MAX_PATH_CHARS} characters; not descended into`;
  return null;
}
