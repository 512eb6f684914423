/** Reads a host directory tree into the summary `mkfs --from --size auto` sizes a volume from. */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fromSystemError } from './errors.js';

/** A host tree reduced to what sizing a volume for it needs. */
export interface TreeSummary {
  /** Names in the root directory. */
  rootNames: string[];
  /** Names in each other directory (one array per directory). */
  directories: string[][];
  fileSizes: number[];
}

export function summarizeHostTree(root: string): TreeSummary {
  const summary: TreeSummary = { rootNames: [], directories: [], fileSizes: [] };
  const seen = new Set<string>();
  const walk = (dir: string, names: string[]): void => {
    let list: string[];
    try {
      list = readdirSync(dir).sort();
    } catch (error) {
      throw fromSystemError(error, dir, 'list directory');
    }
    for (const name of list) {
      const full = join(dir, name);
      let st;
      try {
        st = statSync(full);
      } catch {
        continue; // reported by the copy itself
      }
      if (st.isDirectory()) {
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
        names.push(name);
        const inner: string[] = [];
        summary.directories.push(inner);
        walk(full, inner);
        seen.delete(key);
      } else if (st.isFile()) {
        names.push(name);
        summary.fileSizes.push(st.size);
      }
    }
  };
  walk(root, summary.rootNames);
  return summary;
}
