// The floor for the small-file rows of cartridge.bench.js: what Node itself costs to
// write or read the same tree with nothing in between, one thread, as a whole process
// (start-up included, as in every diskkit row).
//   node bare-small-files.js write MANIFEST OUT  creates OUT and, from memory, every
//     directory and file MANIFEST lists (same sizes, modification times set on the open
//     file as `cp` out does: open, write, futimes, close);
//   node bare-small-files.js write2 MANIFEST OUT  the same on two threads, as diskkit's
//     cp out runs (the main thread and one worker thread started at once): the threads take
//     whole directories in turn from a shared counter (no two threads in one directory at
//     a time), so the split is as even as the files allow and the worker's start-up counts;
//   node bare-small-files.js read TREE  reads every file under TREE whole (readdirSync
//     and readFileSync), as a copy in must.
// MANIFEST (written by `manifest` below, not timed) is JSON: { dirs: [relative paths,
// parents first], files: [[relative path, size, mtime ms], ...] }.
import { closeSync, constants, futimesSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, workerData } from 'node:worker_threads';

/** Writes the manifest of the host tree `tree` to `file` (directories parents first). */
export function manifest(tree, file) {
  const dirs = [];
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        dirs.push(relative(tree, path));
        walk(path);
      } else if (entry.isFile()) {
        const st = statSync(path);
        files.push([relative(tree, path), st.size, st.mtimeMs]);
      }
    }
  };
  walk(tree);
  writeFileSync(file, JSON.stringify({ dirs, files }));
}

function write(manifestFile, out) {
  const { dirs, files } = JSON.parse(readFileSync(manifestFile, 'utf8'));
  const largest = files.reduce((n, f) => Math.max(n, f[1]), 0);
  const bytes = Buffer.alloc(largest, 'x');
  mkdirSync(out);
  for (const dir of dirs) mkdirSync(join(out, dir));
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC;
  for (const [path, size, mtimeMs] of files) {
    const fd = openSync(join(out, path), flags, 0o644);
    if (size > 0) writeSync(fd, bytes, 0, size);
    futimesSync(fd, mtimeMs / 1000, mtimeMs / 1000);
    closeSync(fd);
  }
}

/** The files of `files` grouped by directory, in manifest order. */
function byDirectory(files) {
  const groups = new Map();
  for (const file of files) {
    const dir = dirname(file[0]);
    let group = groups.get(dir);
    if (!group) groups.set(dir, (group = []));
    group.push(file);
  }
  return [...groups.values()];
}

/** Writes the groups this thread claims from `next` (an Int32Array counter both threads share). */
function writeClaimed(groups, next, out, bytes) {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC;
  for (let g = Atomics.add(next, 0, 1); g < groups.length; g = Atomics.add(next, 0, 1)) {
    for (const [path, size, mtimeMs] of groups[g]) {
      const fd = openSync(join(out, path), flags, 0o644);
      if (size > 0) writeSync(fd, bytes, 0, size);
      futimesSync(fd, mtimeMs / 1000, mtimeMs / 1000);
      closeSync(fd);
    }
  }
}

function write2(manifestFile, out) {
  // The worker first: its start-up overlaps the main thread's reading and mkdirs.
  const next = new Int32Array(new SharedArrayBuffer(4));
  next[0] = -1;
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { manifestFile, out, next } });
  const { dirs, files } = JSON.parse(readFileSync(manifestFile, 'utf8'));
  const bytes = Buffer.alloc(files.reduce((n, f) => Math.max(n, f[1]), 0), 'x');
  mkdirSync(out);
  for (const dir of dirs) mkdirSync(join(out, dir));
  // The worker may take a group only once its directory exists: it waits for this flag.
  Atomics.store(next, 0, 0);
  writeClaimed(byDirectory(files), next, out, bytes);
  return new Promise((resolveExit, reject) => {
    worker.on('error', reject);
    worker.on('exit', (code) => (code === 0 ? resolveExit() : reject(new Error(`worker exited with ${code}`))));
  });
}

function write2Worker({ manifestFile, out, next }) {
  const { files } = JSON.parse(readFileSync(manifestFile, 'utf8'));
  const bytes = Buffer.alloc(files.reduce((n, f) => Math.max(n, f[1]), 0), 'x');
  // -1 until the main thread has made the directories.
  while (Atomics.load(next, 0) < 0) Atomics.wait(next, 0, -1, 5);
  writeClaimed(byDirectory(files), next, out, bytes);
}

function read(tree) {
  let total = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) total += readFileSync(path).length;
    }
  };
  walk(tree);
  return total;
}

if (!isMainThread && workerData?.next) write2Worker(workerData);
else if (isMainThread && process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [mode, a, b] = process.argv.slice(2);
  if (mode === 'write') write(a, b);
  else if (mode === 'write2') await write2(a, b);
  else if (mode === 'read') read(a);
  else if (mode === 'manifest') manifest(a, b);
  else {
    process.stderr.write('usage: bare-small-files.js write|write2 MANIFEST OUT | read TREE | manifest TREE FILE\n');
    process.exit(2);
  }
}
