/**
 * Where an image's rollback journal lives. Its own module, free of the journal code:
 * every open of an image checks for a hot journal, and that check (and the list of
 * recoveries the commands report) must not load the journal machinery (node:crypto,
 * node:zlib) when there is no journal, which is nearly always.
 */
import { lstatSync } from 'node:fs';

export const JOURNAL_SUFFIX = '.diskkit-journal';

export function journalPathFor(imagePath: string): string {
  return imagePath + JOURNAL_SUFFIX;
}

/** True when something (file, link, anything) sits at `imagePath`'s journal path. */
export function journalPresent(imagePath: string): boolean {
  try {
    lstatSync(journalPathFor(imagePath));
    return true;
  } catch {
    return false;
  }
}

export type RecoveryAction = 'rolled-back' | 'deleted-committed' | 'deleted-empty' | 'deleted-created-image';

export interface Recovery {
  image: string;
  journal: string;
  action: RecoveryAction;
  /** Records written back (rolled-back only). */
  records: number;
}

/** What recovery did in this process, for the command to mention (the engine does not print). */
export const recoveries: Recovery[] = [];
