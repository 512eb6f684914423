#!/usr/bin/env node
// Part of `npm run build` (after tsc): dist/quick-start.js and everything a plain `ls`
// or `info` loads, bundled into one ESM file, dist/quick-start.bundle.js. Each ESM
// module costs Node a resolve, a read and a compile, and the quick path loads about
// sixty of them: as one file it starts markedly faster (BENCHMARKS.md, Start-up).
//   - Packages stay external (node_modules, native bindings, wasm): loaded as before.
//   - `import.meta.url` in each module is rewritten to that module's own URL in dist/,
//     so worker files and createRequire resolve exactly as unbundled.
//   - Node's built-in modules are required when the module that imports them first
//     runs, as unbundled (a bundle would import all of them, crypto and worker_threads
//     included, before anything runs).
//   - Modules that load a heavy package (parquet, arrow) are left out of the bundle and
//     imported from dist/ when reached: the bundle would otherwise import those packages
//     at start-up, since a bundle hoists every static import of a package.
// bin/diskkit.js runs anything else through dist/cli.js, unbundled.
import { build } from 'esbuild';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const outfile = dist + 'quick-start.bundle.js';
const LEFT_OUT = [/\/commands\/ls-export\.js$/];

const distModules = {
  name: 'dist-modules',
  setup(b) {
    b.onResolve({ filter: /^\./ }, (args) => {
      const path = new URL(args.path, 'file://' + args.importer).pathname;
      if (LEFT_OUT.some((re) => re.test(path))) return { path: './' + relative(dist, path), external: true };
      return undefined;
    });
    b.onResolve({ filter: /^node:/ }, (args) => (args.namespace === 'builtin' ? { path: args.path, external: true } : { path: args.path, namespace: 'builtin' }));
    // Only the names dist/ imports, read once from the module: copying every export of
    // node:fs into each importer (esbuild's CommonJS interop) cost more than the rest.
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => {
      const names = [...(builtinNames.get(args.path) ?? [])].sort();
      const lines = [`const builtin = require(${JSON.stringify(args.path)});`, ...names.map((n) => `export const ${n} = builtin.${n};`)];
      return { contents: lines.join('\n'), loader: 'js' };
    });
    b.onLoad({ filter: /\.js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const own = JSON.stringify('./' + relative(dirname(outfile), args.path));
      return { contents: text.replaceAll('import.meta.url', `new URL(${own}, import.meta.url).href`), loader: 'js' };
    });
  },
};

/** Names imported from each built-in module anywhere in dist/ (`import { a, b as c } from 'node:x'`, the only form tsc emits here). */
async function importedBuiltinNames() {
  const names = new Map();
  for (const file of await readdir(dist, { recursive: true })) {
    if (!file.endsWith('.js') || file === 'quick-start.bundle.js') continue;
    const text = await readFile(dist + file, 'utf8');
    for (const m of text.matchAll(/^import\s*\{([^}]*)\}\s*from\s*'(node:[^']+)'/gm)) {
      const set = names.get(m[2]) ?? new Set();
      for (const part of m[1].split(',')) if (part.trim()) set.add(part.trim().split(/\s+as\s+/)[0]);
      names.set(m[2], set);
    }
    if (/^import\s+(\*|\w)[^{]*from\s*'node:/m.test(text)) throw new Error(`${file}: import a built-in module by name ({ a, b }), bundle-quick-start.js reads no other form`);
  }
  return names;
}
const builtinNames = await importedBuiltinNames();

const result = await build({
  entryPoints: [dist + 'quick-start.js'],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  plugins: [distModules],
  metafile: true,
  logLevel: 'warning',
  legalComments: 'none',
  // Less text to read and parse; names are kept (stack traces under DISKKIT_DEBUG stay readable).
  minifyWhitespace: true,
  minifySyntax: true,
  // `require` for the built-in modules above (an ESM bundle has none of its own).
  banner: { js: "import { createRequire as createRequireForBuiltins } from 'node:module';\nconst require = createRequireForBuiltins(import.meta.url);" },
});
// A package imported statically would load at every start: say so rather than ship it.
const hoisted = Object.values(result.metafile.outputs).flatMap((o) => o.imports).filter((i) => i.kind === 'import-statement' && i.path !== 'node:module');
// A built-in module required by the banner's require, not imported: the shims above.
if (hoisted.length > 0) {
  console.error(`bundle-quick-start: the quick path would import ${hoisted.map((i) => i.path).join(', ')} at start-up: leave the module that needs it out (LEFT_OUT)`);
  process.exit(1);
}
