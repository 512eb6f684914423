/** Paths inside a volume: absolute, '/'-separated, root '/'. One copy of the helpers every format and command uses. */
import type { Volume } from './volume.js';

/** `dir` joined with one `name` ('/' + name at the root). */
export function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** The key under which two paths name the same entry of `volume`: each name through its nameKey. */
export function pathKey(volume: Pick<Volume, 'nameKey'>, path: string): string {
  return path
    .split('/')
    .map((name) => (name === '' ? name : volume.nameKey(name)))
    .join('/');
}

/** True when `inner` is `outer` or lies below it, names compared as `volume` compares them. */
export function isWithin(volume: Pick<Volume, 'nameKey'>, inner: string, outer: string): boolean {
  if (outer === '/') return true;
  const a = pathKey(volume, inner);
  const b = pathKey(volume, outer);
  return a === b || a.startsWith(b + '/');
}

/** Splits an absolute path into names, dropping empty parts and '.', resolving '..' lexically. */
export function splitPath(path: string): string[] {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out;
}
