#!/usr/bin/env node
// Part of `npm run build` (after tsc): dist/quick-start.js and everything a plain `ls`,
// `info`, `fsck`, `compact`, `cp`, `cat` or `mkfs` loads, bundled into one file per command group (BUNDLES below). Each ESM
// module costs Node a resolve, a read and a compile, and the quick path loads about
// sixty of them: as one file it starts markedly faster (BENCHMARKS.md, Start-up).
//   - The bundle is a CommonJS-style script (NAME.bundle.cjs) that bin/diskkit.js compiles
//     with vm.Script and a V8 code cache written here (NAME.bundle.v8cache, see
//     writeCodeCache): no ESM loader, and no compiling of what a listing runs.
//   - Packages stay external (node_modules, native bindings, wasm): loaded as before.
//   - `import.meta.url` in each module is rewritten to that module's own URL in dist/,
//     so worker files and createRequire resolve exactly as unbundled.
//   - `import()` of what stays outside is rewritten to a function bin/diskkit.js passes in
//     (Node 20 allows import() in a vm script only behind a flag).
//   - Node's built-in modules are required on the first call of one of their functions
//     (a bundle would import all of them, crypto and worker_threads included, before
//     anything runs).
//   - Modules the quick path never runs (leftOut) are not bundled: some load a heavy
//     package (parquet, arrow) that a bundle would import at start-up, since it hoists
//     every static import of a package; the rest would only be parsed for nothing.
// bin/diskkit.js runs anything else through dist/cli.js, unbundled.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

/** Empty files in the warm-up Cartridge's wide directory: a catalog of a few leaves and a branch level. */
const WARM_WIDE_FILES = 600;

const root = fileURLToPath(new URL('../', import.meta.url));
const dist = root + 'dist/';
const bin = root + 'bin/diskkit.js';
// Two bundles of quick-start.js, one per group of commands (bin/diskkit.js picks one
// by the command word), each holding only its commands' code: what one bundle leaves
// out (leftOut) stays in dist/, imported from there only if reached. A quick run must
// never reach it: it would load second copies of the engine modules it imports
// (errors, the format registry). Left out everywhere: ls --format's export (the quick
// path hands options to commander); the mkfs hooks everywhere but in quick-mkfs.
const COMMON_LEFT_OUT = [/\/commands\/ls-export\.js$/];
const MKFS_HOOKS = /\/engine\/[a-z]+\/mkfs-hook\.js$/;
const FSCK_HOOKS = /\/engine\/[a-z]+\/fsck-hook\.js$/;
const BUNDLES = [
  { name: 'quick-start', commands: ['ls', 'info'], leftOut: [/\/commands\/(fsck|compact|cp|cat|mkfs)\.js$/, FSCK_HOOKS, MKFS_HOOKS] },
  { name: 'quick-fsck', commands: ['fsck'], leftOut: [/\/commands\/(ls|info|compact|cp|cat|mkfs)\.js$/, MKFS_HOOKS] },
  { name: 'quick-compact', commands: ['compact'], leftOut: [/\/commands\/(ls|info|fsck|cp|cat|mkfs)\.js$/, FSCK_HOOKS, MKFS_HOOKS] },
  // cat reads as cp out does (the same scan of a file's extents or reader).
  { name: 'quick-cp', commands: ['cp', 'cat'], leftOut: [/\/commands\/(ls|info|fsck|compact|mkfs)\.js$/, FSCK_HOOKS, MKFS_HOOKS] },
  // mkfs without --from: cp-in.js (the fill) stays out, with the cp and bulk-import code it loads.
  { name: 'quick-mkfs', commands: ['mkfs'], leftOut: [/\/commands\/(ls|info|fsck|compact|cp|cat|cp-in)\.js$/, FSCK_HOOKS] },
];

const distModules = (outfile, leftOut, builtinNames) => ({
  name: 'dist-modules',
  setup(b) {
    b.onResolve({ filter: /^\./ }, (args) => {
      const path = new URL(args.path, 'file://' + args.importer).pathname;
      if (leftOut.some((re) => re.test(path))) return { path: './' + relative(dist, path), external: true };
      return undefined;
    });
    b.onResolve({ filter: SHIMMED }, (args) => (args.namespace === 'builtin' ? { path: args.path, external: true } : { path: args.path, namespace: 'builtin' }));
    // Only the names the bundled modules import (esbuild's CommonJS interop copied all of
    // node:fs into each importer). A function is a stub, a class a proxy, that requires the
    // module on first use: a module imported for a path not taken (crypto for an encrypted
    // image, worker_threads for parallel reads, commander for an option's parse error) then
    // costs nothing. Any other value is read when the bundle starts, loading its module:
    // hence the names of the bundled modules only (a worker's `workerData` would load
    // worker_threads at every start).
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
      // __bundleUrl: the bundle file's URL, passed in by bin/diskkit.js.
      const own = JSON.stringify('./' + relative(dirname(outfile), args.path));
      // import() of a computed URL (a worker module run in-process) goes to bin/diskkit.js's
      // function too; esbuild sees (and bundles or leaves out) only the literal ones.
      const contents = text.replaceAll('import.meta.url', `new URL(${own}, __bundleUrl).href`).replace(/\bimport\((?!['"])/g, '__dynamicImport(');
      return { contents, loader: 'js' };
    });
  },
});

/** What bin/diskkit.js's loadQuickBundle calls the bundle with (it compiles the file as one function expression). */
const BUNDLE_WRAPPER_START = '(function (exports, module, require, __bundleUrl, __dynamicImport) {';
const BUNDLE_WRAPPER_END = '})';

/** Modules loaded through the shims above: Node's built-ins, and commander (CommonJS, so require works). */
const SHIMMED = /^(node:.*|commander)$/;

/** Names imported from each shimmed module by `files` (`import { a, b as c } from 'node:x'`, the only form tsc emits here). */
async function importedBuiltinNames(files) {
  const names = new Map();
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(/^import\s*\{([^}]*)\}\s*from\s*'(node:[^']+|commander)'/gm)) {
      const set = names.get(m[2]) ?? new Set();
      for (const part of m[1].split(',')) if (part.trim()) set.add(part.trim().split(/\s+as\s+/)[0]);
      names.set(m[2], set);
    }
    if (/^import\s+(\*|\w)[^{]*from\s*'(node:|commander')/m.test(text)) throw new Error(`${file}: import a built-in module by name ({ a, b }), bundle-quick-start.js reads no other form`);
  }
  return names;
}
const allDistFiles = (await readdir(dist, { recursive: true })).filter((f) => f.endsWith('.js') && !f.endsWith('.bundle.js')).map((f) => dist + f);

/** One esbuild run; `builtinNames` null: a first pass that only learns which dist/ modules the bundle holds. */
function bundle(outfile, commands, leftOut, builtinNames) {
  return build({
    entryPoints: [dist + 'quick-start.js'],
    outfile,
    write: false,
    define: { DISKKIT_QUICK_COMMANDS: JSON.stringify(commands) },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    plugins: [distModules(outfile, [...COMMON_LEFT_OUT, ...leftOut], builtinNames)],
    // The global `performance` (loads perf_hooks) replaced by a process.hrtime clock.
    inject: [root + 'scripts/quick-performance.js'],
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
    // Less text to read; names are kept (stack traces under DISKKIT_DEBUG stay readable).
    minifyWhitespace: true,
    minifySyntax: true,
  });
}

for (const { name, commands, leftOut } of BUNDLES) {
  const outfile = `${dist}${name}.bundle.cjs`;
  const firstPass = await bundle(outfile, commands, leftOut, await importedBuiltinNames(allDistFiles));
  const bundled = Object.keys(firstPass.metafile.inputs).filter((f) => f.startsWith('dist/')).map((f) => join(root, f));
  const result = await bundle(outfile, commands, leftOut, await importedBuiltinNames(bundled));
  const output = Object.values(result.metafile.outputs)[0];
  // BUNDLE_REPORT=1: what the bundle holds (largest modules first) and its dynamic imports, to choose leftOut.
  if (process.env.BUNDLE_REPORT) {
    const inputs = Object.entries(output.inputs).sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput);
    for (const [input, { bytesInOutput }] of inputs) console.error(`${bytesInOutput}\t${input}`);
    for (const [input, { imports }] of Object.entries(result.metafile.inputs)) for (const i of imports) if (i.kind === 'dynamic-import') console.error(`${input} -> import(${i.path})`);
  }
  // A module imported statically would load at every start (a bundle hoists such imports;
  // built-in modules come through the shims above, required where used): refuse to ship it.
  const hoisted = output.imports.filter((i) => i.kind === 'import-statement');
  if (hoisted.length > 0) fail(`the quick path would load ${hoisted.map((i) => i.path).join(', ')} at start-up: leave the module that needs it out (leftOut)`);
  let text = result.outputFiles[0].text;
  for (const { path } of output.imports.filter((i) => i.kind === 'dynamic-import')) text = text.replaceAll(`import(${JSON.stringify(path)})`, `__dynamicImport(${JSON.stringify(path)})`);
  if (/\bimport\s*\(/.test(text)) fail(`${name}: an import() is left in the bundle (a vm script cannot run it on Node 20)`);
  // The last line is the build id the code cache must carry (bin/diskkit.js).
  // The text is written already wrapped in the function bin/diskkit.js calls, so it
  // compiles the file's text as read: wrapping it there made two more copies of 400 KB,
  // enough young garbage to cost a listing a scavenge.
  const buildId = `//# diskkit-build ${randomBytes(8).toString('hex')}`;
  writeFileSync(outfile, `${BUNDLE_WRAPPER_START}${text}\n${BUNDLE_WRAPPER_END}\n${buildId}`);
  writeCodeCache(name, buildId);
}

/** fixtures/ntfs/demo.ntfs.gz (made by fixtures/make-ntfs-fixtures.sh) unpacked to `path`; false when the fixture is absent. */
function writeNtfsDemo(path) {
  try {
    writeFileSync(path, gunzipSync(readFileSync(join(root, 'fixtures', 'ntfs', 'demo.ntfs.gz'))));
    return true;
  } catch {
    console.error('bundle-quick-start: warning: no NTFS image for the warm-up (fixtures/ntfs/demo.ntfs.gz)');
    return false;
  }
}

/**
 * The cache file's first line: the build id, padded with spaces so that the cache data
 * after it starts at a multiple of 8 bytes (V8 copies cache data that is not
 * pointer-aligned before reading it; bin/diskkit.js reads the file into a fresh buffer).
 */
function cacheHeader(buildId) {
  return buildId.padEnd(Math.ceil((buildId.length + 1) / 8) * 8 - 1) + '\n';
}

/** Runs `runs` through bundle `name` in a fresh node (no cache), then writes the V8 code cache of what ran to `cacheFile`. */
function warmUp(name, cacheFile, buildId, runs, cwd) {
  const script = `
    const { writeFileSync } = require('node:fs');
    const { loadQuickBundle } = require(${JSON.stringify(bin)});
    const { exports: quick, script } = loadQuickBundle(${JSON.stringify(name)}, { useCache: false });
    (async () => {
      for (const args of ${JSON.stringify(runs)}) if (!(await quick.runQuickly(args))) throw new Error('not a quick command: ' + args.join(' '));
      writeFileSync(${JSON.stringify(cacheFile)}, Buffer.concat([Buffer.from(${JSON.stringify(cacheHeader(buildId))}, 'latin1'), script.createCachedData()]));
    })();`;
  const warm = spawnSync(process.execPath, ['-e', script], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', cwd });
  if (warm.status !== 0) console.error(`bundle-quick-start: warning: no code cache ${cacheFile.slice(dist.length)} (warm-up run failed: ${warm.stderr.trim().split('\n').slice(-3).join(' ')})`);
}

function fail(message) {
  console.error(`bundle-quick-start: ${message}`);
  process.exit(1);
}

/**
 * NAME.bundle.v8cache: the bundle's build id line, then V8's code cache of the bundle made
 * after warm-up runs of its commands (ls, info or fsck of the FAT12 fixture and of a small
 * Cartridge image, ls and info of the NTFS demo image too; compact of the Cartridge image;
 * cp and cat out of both and cp into the Cartridge image; mkfs of FAT12, FAT16, FAT32 and
 * Cartridge images) in a fresh `node` (the cache holds the bytecode of every function run so
 * far, and V8 takes it only from the same Node version and flags); for ls and info also one
 * cache per format (NAME.bundle.FORMAT.v8cache). Without it, or when V8
 * rejects it, bin/diskkit.js compiles the text as before: the cache only saves time.
 */
function writeCodeCache(name, buildId) {
  const cacheFile = `${dist}${name}.bundle.v8cache`;
  rmSync(cacheFile, { force: true });
  const work = mkdtempSync(join(tmpdir(), 'diskkit-warm-'));
  try {
    const fat12 = join(root, 'fixtures', 'fat12.img');
    const images = [fat12];
    const tree = join(work, 'tree', 'a', 'b');
    mkdirSync(tree, { recursive: true });
    writeFileSync(join(tree, 'file.txt'), 'warm-up\n');
    // Enough names that the catalog has branch levels above its leaves, as any real
    // image's has: a listing then runs the branch code, which a one-leaf catalog never does.
    const wide = join(work, 'tree', 'wide');
    mkdirSync(wide);
    for (let i = 0; i < WARM_WIDE_FILES; i++) closeSync(openSync(join(wide, `name-${i}`), 'w'));
    const cart = join(work, 'warm.cart');
    const mkfs = spawnSync(process.execPath, [bin, 'mkfs', '--type', 'cartridge', cart, '--from', join(work, 'tree')], { stdio: 'ignore' });
    if (mkfs.status === 0) images.push(cart);
    else console.error('bundle-quick-start: warning: no Cartridge image for the warm-up (mkfs failed)');
    // ls and info of NTFS too (the committed demo image, unpacked): without it an NTFS
    // listing compiled its volume code from the text at every run.
    const ntfs = join(work, 'demo.ntfs');
    const ntfsImages = name === 'quick-start' && writeNtfsDemo(ntfs) ? [ntfs] : [];
    const listing = (imgs) => imgs.flatMap((img) => [['ls', '-l', '-a', '-R', img], ['ls', `${img}:/`], ...(img === cart ? [['ls', `${img}:/a/b`]] : []), ['--json', 'ls', '-l', img], ['info', img], ['--json', 'info', img]]);
    const runs = name === 'quick-fsck'
      ? images.map((img) => ['fsck', img])
      : name === 'quick-compact'
        ? images.filter((img) => img === cart).map((img) => ['compact', img])
        : name === 'quick-cp'
          ? images.flatMap((img) => [['cp', '-r', `${img}:/`, join(work, `out-${images.indexOf(img)}`)], ['cat', img === cart ? `${cart}:/a/b/file.txt` : `${img}:/UPPER.TXT`]]).concat(images.includes(cart) ? [['cp', join(tree, 'file.txt'), `${cart}:/copy.txt`]] : [])
          : name === 'quick-mkfs'
            ? [['mkfs', join(work, 'floppy.img'), '--size', '1.44M', '-q'], ['mkfs', join(work, 'fat16.img'), '--size', '64M', '-q'], ['mkfs', join(work, 'fat32.img'), '--size', '32G', '-q'], ['mkfs', join(work, 'new.cart'), '--type', 'cartridge', '-q']]
            : listing([...images, ...ntfsImages]);
    warmUp(name, cacheFile, buildId, runs, work);
    // ls and info: also one cache per format (NAME.bundle.FORMAT.v8cache), each holding only
    // that format's code (about two thirds of the whole): V8 reads every function a cache
    // holds when it takes it, and bin/diskkit.js picks by the image's first bytes.
    if (name === 'quick-start') {
      const perFormat = { fat: [fat12], cartridge: images.includes(cart) ? [cart] : [], ntfs: ntfsImages };
      for (const [format, imgs] of Object.entries(perFormat)) {
        const formatCache = `${dist}${name}.bundle.${format}.v8cache`;
        rmSync(formatCache, { force: true });
        if (imgs.length > 0) warmUp(name, formatCache, buildId, listing(imgs), work);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
