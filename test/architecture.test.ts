/**
 * The import rules the style guide sets (issue 10, section 4): commands reach a format
 * only through the registry or the format's index.ts, and no module of src/ takes part
 * in an import cycle (static, type-only and dynamic imports alike).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const IMPORT = /(?:from\s+|import\s*\(\s*|import\s+)['"](\.[^'"]+)['"]/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.tsx?$/.test(name) ? [full] : [];
  });
}

/** module -> the modules of src/ it imports, by path relative to src/. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const deps: string[] = [];
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = normalize(join(dirname(file), m[1]!)).replace(/\.js$/, '');
      const found = ['.ts', '.tsx'].map((ext) => target + ext).find((p) => existsSync(p));
      if (found) deps.push(relative(SRC, found));
    }
    graph.set(relative(SRC, file), deps);
  }
  return graph;
}

/** Strongly connected components with more than one module (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('module structure', () => {
  const graph = importGraph();

  it('the import graph is read (sanity: the modules this test is about are in it)', () => {
    expect(graph.get('engine/open-volume.ts')).toEqual(expect.arrayContaining(['engine/formats.ts', 'engine/image.ts']));
    expect(graph.get('engine/image.ts')).toContain('engine/registered-formats.ts');
  });

  it('no module of src/ takes part in an import cycle', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('commands import no format internals: only a format folder’s index.ts', () => {
    const reaching = [...graph]
      .filter(([from]) => from.startsWith('commands/'))
      .flatMap(([from, deps]) => deps.filter((d) => /^engine\/(fat|ntfs|cartridge)\//.test(d) && !/\/index\.ts$/.test(d)).map((d) => `${from} -> ${d}`));
    expect(reaching).toEqual([]);
  });
});
