/**
 * `cp -v` and `cp -p`, applied once a copy has run: -v lists each file and directory
 * copied as cp(1) -v does (`'SRC' -> 'DEST'`, on stdout); -p carries DOS attributes
 * across. Times are kept by every copy already (as mcopy -m), so -p adds attributes:
 * inside an image, read-only, hidden, system and archive are copied as they are;
 * into an image, a host file nobody may write becomes read-only; out of an image, a
 * read-only file loses its write permissions.
 */
import { chmodSync, statSync } from 'node:fs';
import type { Volume } from '../engine/volume.js';
import { escapeName, reportError, type GlobalOptions } from './context.js';

export interface CopyReportOptions {
  verbose?: boolean;
  preserve?: boolean;
}

const CHANGEABLE = ['readonly', 'hidden', 'system', 'archive'];

/** After a copy into `image`: `written` as cp-in's outcome lists it; `fromImage` when the sources were in the image too. */
export function afterCopyIn(
  volume: Volume,
  image: string,
  written: readonly { path: string; type: 'file' | 'dir'; from: string }[],
  fromImage: boolean,
  options: CopyReportOptions,
  g: GlobalOptions,
): void {
  if (options.preserve && volume.setAttributes) {
    for (const w of written) {
      try {
        if (fromImage) {
          const source = volume.stat(w.from).attributes.filter((a) => CHANGEABLE.includes(a));
          volume.setAttributes(w.path, { set: source, clear: CHANGEABLE.filter((a) => !source.includes(a)) });
        } else if (w.type === 'file' && (statSync(w.from).mode & 0o222) === 0) {
          volume.setAttributes(w.path, { set: ['readonly'], clear: [] });
        }
      } catch (error) {
        if (!g.json) reportError(image, error);
      }
    }
    volume.commit();
  }
  if (options.verbose && !g.json) {
    for (const w of written) process.stdout.write(`'${escapeName(fromImage ? `${image}:${w.from}` : w.from)}' -> '${escapeName(`${image}:${w.path}`)}'\n`);
  }
}

/** After a copy out of `image`: the plan's items that did not fail. */
export function afterCopyOut(image: string, copied: readonly { kind: 'file' | 'dir'; entry: { path: string; attributes: string[] }; host: string }[], options: CopyReportOptions, g: GlobalOptions): void {
  for (const item of copied) {
    if (options.preserve && item.kind === 'file' && item.entry.attributes.includes('readonly')) {
      try {
        chmodSync(item.host, statSync(item.host).mode & 0o7555);
      } catch (error) {
        if (!g.json) reportError(image, error);
      }
    }
    if (options.verbose && !g.json) process.stdout.write(`'${escapeName(`${image}:${item.entry.path}`)}' -> '${escapeName(item.host)}'\n`);
  }
}
