#!/usr/bin/env node
// Part of `npm run build` (after tsc): dist/quick-start.js and everything a plain `ls`,
// `info` or `fsck` loads, bundled into one ESM file per command group (BUNDLES below). Each ESM
// module costs Node a resolve, a read and a compile, and the quick path loads about
// sixty of them: as one file it starts markedly faster (BENCHMARKS.md, Start-up).
//   - Packages stay external (node_modules, native bindings, wasm): loaded as before.
//   - `import.meta.url` in each module is rewritten to that module's own URL in dist/,
//     so worker files and createRequire resolve exactly as unbundled.
//   - Node's built-in modules are required on the first call of one of their functions
//     (a bundle would import all of them, crypto and worker_threads included, before
//     anything runs).
//   - Modules the quick path never runs (leftOut) are not bundled: some load a heavy
//     package (parquet, arrow) that a bundle would import at start-up, since it hoists
//     every static import of a package; the rest would only be parsed for nothing.
// bin/diskkit.js runs anything else through dist/cli.js, unbundled.
import { build } from 'esbuild';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
// Two bundles of quick-start.js, one per group of commands (bin/diskkit.js picks one
// by the command word), each holding only its commands' code: what one bundle leaves
// out (leftOut) stays in dist/, imported from there only if reached. A quick run must
// never reach it: it would load second copies of the engine modules it imports
// (errors, the format registry). Left out everywhere: ls --format's export (the quick
// path hands options to commander) and the mkfs hooks (no quick command formats).
const COMMON_LEFT_OUT = [/\/commands\/ls-export\.js$/, /\/engine\/[a-z]+\/mkfs-hook\.js$/];
const BUNDLES = [
  { outfile: dist + 'quick-start.bundle.js', commands: ['ls', 'info'], leftOut: [/\/commands\/fsck\.js$/, /\/engine\/[a-z]+\/fsck-hook\.js$/] },
  { outfile: dist + 'quick-fsck.bundle.js', commands: ['fsck'], leftOut: [/\/commands\/(ls|info)\.js$/] },
];

const distModules = (outfile, leftOut) => ({
  name: 'dist-modules',
  setup(b) {
    b.onResolve({ filter: /^\./ }, (args) => {
      const path = new URL(args.path, 'file://' + args.importer).pathname;
      if (leftOut.some((re) => re.test(path))) return { path: './' + relative(dist, path), external: true };
      return undefined;
    });
    b.onResolve({ filter: SHIMMED }, (args) => (args.namespace === 'builtin' ? { path: args.path, external: true } : { path: args.path, namespace: 'builtin' }));
    // Only the names dist/ imports (esbuild's CommonJS interop copied all of node:fs into
    // each importer). A function is a stub, a class a proxy, that requires the module on
    // first use: a module imported for a path not taken (crypto for an encrypted image,
    // worker_threads for parallel reads, commander for an option's parse error) then
    // costs nothing.
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, async (args) => {
      const real = await import(args.path);
      const lines = [
        `let loaded; const builtin = () => (loaded ??= require(${JSON.stringify(args.path)}));`,
        'const lazyClass = (get) => { const p = new Proxy(function () {}, { construct: (_, a, t) => Reflect.construct(get(), a, t === p ? get() : t), apply: (_, self, a) => Reflect.apply(get(), self, a), get: (_, k) => Reflect.get(get(), k), has: (_, k) => Reflect.has(get(), k) }); return p; };',
      ];
      for (const name of [...(builtinNames.get(args.path) ?? [])].sort()) {
        if (typeof real[name] !== 'function') lines.push(`export const ${name} = builtin().${name};`);
        else if (/^[A-Z]/.test(name)) lines.push(`export const ${name} = lazyClass(() => builtin().${name});`);
        else lines.push(`export function ${name}(...args) { return builtin().${name}(...args); }`);
      }
      return { contents: lines.join('\n'), loader: 'js' };
    });
    b.onLoad({ filter: /\.js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const own = JSON.stringify('./' + relative(dirname(outfile), args.path));
      return { contents: text.replaceAll('import.meta.url', `new URL(${own}, import.meta.url).href`), loader: 'js' };
    });
  },
});

/** Modules loaded through the shims above: Node's built-ins, and commander (CommonJS, so require works). */
const SHIMMED = /^(node:.*|commander)$/;

/** Names imported from each shimmed module anywhere in dist/ (`import { a, b as c } from 'node:x'`, the only form tsc emits here). */
async function importedBuiltinNames() {
  const names = new Map();
  for (const file of await readdir(dist, { recursive: true })) {
    if (!file.endsWith('.js') || file.endsWith('.bundle.js')) continue;
    const text = await readFile(dist + file, 'utf8');
    for (const m of text.matchAll(/^import\s*\{([^}]*)\}\s*from\s*'(node:[^']+|commander)'/gm)) {
      const set = names.get(m[2]) ?? new Set();
      for (const part of m[1].split(',')) if (part.trim()) set.add(part.trim().split(/\s+as\s+/)[0]);
      names.set(m[2], set);
    }
    if (/^import\s+(\*|\w)[^{]*from\s*'(node:|commander')/m.test(text)) throw new Error(`${file}: import a built-in module by name ({ a, b }), bundle-quick-start.js reads no other form`);
  }
  return names;
}
const builtinNames = await importedBuiltinNames();

for (const { outfile, commands, leftOut } of BUNDLES) {
  const result = await build({
    entryPoints: [dist + 'quick-start.js'],
    outfile,
    define: { DISKKIT_QUICK_COMMANDS: JSON.stringify(commands) },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    plugins: [distModules(outfile, [...COMMON_LEFT_OUT, ...leftOut])],
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
    // Less text to read and parse; names are kept (stack traces under DISKKIT_DEBUG stay readable).
    minifyWhitespace: true,
    minifySyntax: true,
    // `require` for the built-in modules above (an ESM bundle has none of its own).
    banner: { js: "import { createRequire as createRequireForBuiltins } from 'node:module';\nconst require = createRequireForBuiltins(import.meta.url);" },
  });
  // BUNDLE_REPORT=1: what the bundle holds (largest modules first) and its dynamic imports, to choose leftOut.
  if (process.env.BUNDLE_REPORT) {
    const inputs = Object.entries(Object.values(result.metafile.outputs)[0].inputs).sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput);
    for (const [name, { bytesInOutput }] of inputs) console.error(`${bytesInOutput}\t${name}`);
    for (const [name, { imports }] of Object.entries(result.metafile.inputs)) for (const i of imports) if (i.kind === 'dynamic-import') console.error(`${name} -> import(${i.path})`);
  }
  // A module imported statically would load at every start (a bundle hoists such imports;
  // built-in modules come through the shims above, required where used): refuse to ship it.
  const hoisted = Object.values(result.metafile.outputs).flatMap((o) => o.imports).filter((i) => i.kind === 'import-statement' && i.path !== 'node:module');
  if (hoisted.length > 0) {
    console.error(`bundle-quick-start: the quick path would import ${hoisted.map((i) => i.path).join(', ')} at start-up: leave the module that needs it out (leftOut)`);
    process.exit(1);
  }
}
