#!/usr/bin/env node
// Entry point. A CommonJS script (bin/package.json): an ES module entry starts Node's ESM
// loader, about a tenth of a plain `ls`'s start-up, which only commands that need the
// command tree (dist/cli.js) pay.
'use strict';
const { closeSync, fstatSync, openSync, readFileSync, readSync, writeSync } = require('node:fs');

/** Writes `text` to fd 1 whole (a pipe may take part of it, or ask to wait: EAGAIN); a closed reader (EPIPE) ends quietly. */
function writeOut(text) {
  let bytes = Buffer.from(text, 'utf8');
  while (bytes.length > 0) {
    try {
      bytes = bytes.subarray(writeSync(1, bytes));
    } catch (error) {
      if (error.code === 'EPIPE') return;
      if (error.code !== 'EAGAIN') throw error;
    }
  }
}

/**
 * Runs one quick-path bundle (scripts/bundle-quick-start.js): its text compiled with the
 * V8 code cache `npm run build` wrote beside it (the bytecode of what a warm-up run
 * executed), so neither the bundle's text nor the functions a listing runs are compiled
 * again. The cache is used only when it carries the bundle's build id (the bundle's last
 * line) and V8 accepts it (same Node, same flags); otherwise the text is compiled as usual.
 * Returns the bundle's exports and whether V8 took the cache.
 */
function loadQuickBundle(name, { useCache = true, variant = null } = {}) {
  // A path from __dirname, not require.resolve: the resolver's code would be compiled for this one call.
  const file = require('node:path').join(__dirname, '..', 'dist', `${name}.bundle.cjs`);
  // Both files go through one buffer (the text is copied into a string first): each 4 KiB
  // of fresh memory costs a page fault, and on these machines faults are much of what
  // separates a listing from `node -e 0`.
  const textFd = openSync(file, 'r');
  let cacheFd = -1;
  try {
    if (useCache) {
      try {
        cacheFd = openCache(file, variant);
      } catch {
        // No cache (not built yet, or removed): compile from the text.
      }
    }
    const textSize = fstatSync(textFd).size;
    const cacheSize = cacheFd >= 0 ? fstatSync(cacheFd).size : 0;
    const buffer = Buffer.allocUnsafeSlow(Math.max(textSize, cacheSize));
    const text = buffer.utf8Slice(0, readWhole(textFd, buffer, textSize));
    const buildId = text.slice(text.lastIndexOf('\n') + 1);
    let cachedData;
    if (cacheFd >= 0) {
      const cache = buffer.subarray(0, readWhole(cacheFd, buffer, cacheSize));
      // The build id line is padded so that the cache data starts 8-byte aligned: V8 copies unaligned data first.
      const idLength = cache.indexOf(10);
      if (idLength > 0 && cache.latin1Slice(0, idLength).trimEnd() === buildId) cachedData = cache.subarray(idLength + 1);
    }
    return runQuickBundle(file, text, cachedData);
  } finally {
    closeSync(textFd);
    if (cacheFd >= 0) closeSync(cacheFd);
  }
}

/** The bundle's code cache for `variant` (one format's code only) when the build wrote one, else its whole one. */
function openCache(file, variant) {
  if (variant !== null) {
    try {
      return openSync(file.replace(/\.cjs$/, `.${variant}.v8cache`), 'r');
    } catch {
      // Not built for this variant: the whole cache.
    }
  }
  return openSync(file.replace(/\.cjs$/, '.v8cache'), 'r');
}

/**
 * The format an `ls`/`info` target's image most likely holds, from its first bytes: the
 * name of the per-format code cache to try (scripts/bundle-quick-start.js). Only a hint: a
 * wrong one (a partition table, IMAGE@SNAPSHOT, an unreadable file) costs compiling what
 * that cache lacks, never a different result; the engine's probes decide the format.
 */
function formatHint(args) {
  const target = args.filter((arg) => !arg.startsWith('-')).pop();
  if (target === undefined) return null;
  const colon = target.indexOf(':/');
  const image = colon > 0 ? target.slice(0, colon) : target.endsWith(':') ? target.slice(0, -1) : target;
  let fd = -1;
  try {
    // Non-blocking: a FIFO named as the image must not hold the start (its pread then fails, no hint).
    const { O_RDONLY, O_NONBLOCK } = require('node:fs').constants;
    fd = openSync(image, O_RDONLY | O_NONBLOCK);
    const head = Buffer.alloc(16);
    if (readSync(fd, head, 0, 16, 0) < 16) return null;
    if (head.latin1Slice(0, 8) === 'DKCART\r\n') return 'cartridge';
    if (head.latin1Slice(3, 11) === 'NTFS    ') return 'ntfs';
    return 'fat';
  } catch {
    return null;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** Reads up to `size` bytes of `fd` from its start into `buffer`; returns how many. */
function readWhole(fd, buffer, size) {
  let done = 0;
  for (let n; done < size && (n = readSync(fd, buffer, done, size - done, done)) > 0; ) done += n;
  return done;
}

/** Compiles and runs the bundle's text (with `cachedData` when there is one); its exports and whether V8 took the cache. */
function runQuickBundle(file, text, cachedData) {
  const { Script } = require('node:vm');
  // The file is one function expression (the build wrote the wrapper in), compiled as read.
  const script = new Script(text, { filename: file, cachedData });
  const bundleUrl = require('node:url').pathToFileURL(file).href;
  // import() inside a vm script needs a flag on Node 20: the bundle calls this instead (its
  // modules left out of the bundle, and packages, resolved as from dist/).
  const dynamicImport = (specifier) => import(specifier.startsWith('.') ? new URL(specifier, bundleUrl).href : specifier);
  const module = { exports: {} };
  script.runInThisContext()(module.exports, module, require, bundleUrl, dynamicImport);
  return { exports: module.exports, script, cacheUsed: cachedData !== undefined && !script.cachedDataRejected };
}

/** The quick bundle, or null when the build made none (tsc alone): cli.js then runs the command. */
function quickBundleOrNull(name, variant) {
  try {
    return loadQuickBundle(name, { variant });
  } catch (error) {
    if (error.code === 'ENOENT' || error.code === 'MODULE_NOT_FOUND') return null;
    throw error;
  }
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    // Answered before anything is loaded: start-up time is most of what a scripted call costs.
    // Written to fd 1 directly: process.stdout would load Node's stream modules first.
    writeOut(JSON.parse(readFileSync(`${__dirname}/../package.json`, 'utf8')).version + '\n');
    return;
  }
  // A plain `ls`, `info`, `fsck`, `compact`, `cp`, `cat` or `mkfs` runs without the command tree (dist/quick-start.js says
  // why), from one bundle per command group, each holding only its own commands; anything
  // else goes straight to cli.js without loading a bundle first.
  const command = args.find((arg) => !arg.startsWith('-'));
  const bundle = command === 'fsck' ? 'quick-fsck' : command === 'ls' || command === 'info' ? 'quick-start' : command === 'compact' ? 'quick-compact' : command === 'cp' || command === 'cat' ? 'quick-cp' : command === 'mkfs' ? 'quick-mkfs' : null;
  if (bundle !== null && (await quickBundleOrNull(bundle, bundle === 'quick-start' ? formatHint(args.slice(args.indexOf(command) + 1)) : null)?.exports.runQuickly(args))) {
    // The command is over once runQuickly returns: every write awaited, the image closed,
    // the listing written. Left to end by itself, Node would then free the heap page by
    // page (a few ms of a 90 ms `ls`; about 30 ms of CPU after a 10,000-file cp -r into a
    // Cartridge); the kernel frees it at once. Only on Linux, where writes to stdout and
    // stderr are synchronous whatever they go to (files, pipes, terminals), so none is
    // pending (on macOS a pipe is not); 'exit' listeners run as on a natural end. Only for
    // listings and cp, the commands measured so.
    if ((bundle === 'quick-start' || command === 'cp') && process.platform === 'linux') process.exit();
    return;
  }
  const { main: cliMain } = await import('../dist/cli.js');
  await cliMain(process.argv);
}

if (require.main === module) {
  // cli.js reports every error itself; what reaches here is a broken install (dist/ missing
  // or stale), said in one line instead of a stack trace.
  main().catch((error) => {
    process.stderr.write(`diskkit: internal error: ${(error instanceof Error ? error.message : String(error)).split("\n")[0]} (is dist/ built? run npm run build)\n`);
    process.exitCode = 1;
  });
} else {
  module.exports = { loadQuickBundle };
}
