/**
 * One output file per source for `--out-dir`: named from the source's base name
 * with the format's extension (`C.img` → `C.img.parquet`), so a directory of dumps
 * maps onto a directory of indexes. Two sources with the same base name (`a/C.img`,
 * `b/C.img`) get `C.img.parquet` and `C.img-2.parquet`: the caller reports the renames.
 */
import { basename } from 'node:path';

export interface OutputName {
  source: string;
  /** File name inside the output directory. */
  file: string;
  /** True when the name was changed to avoid another source's. */
  renamed: boolean;
}

/** Characters kept out of output file names: path separators and control characters. */
const UNSAFE_NAME = /[/\\\u0000-\u001f\u007f]/g;

export function outputNamesFor(sources: readonly string[], extension: string): OutputName[] {
  const taken = new Set<string>();
  return sources.map((source) => {
    let stem = basename(source).replace(UNSAFE_NAME, '_');
    if (stem === '' || stem === '.' || stem === '..') stem = 'source';
    let file = `${stem}.${extension}`;
    let renamed = false;
    // Case-insensitive: the directory may live on a file system that folds case.
    for (let n = 2; taken.has(file.toLowerCase()); n++) {
      file = `${stem}-${n}.${extension}`;
      renamed = true;
    }
    taken.add(file.toLowerCase());
    return { source, file, renamed };
  });
}
