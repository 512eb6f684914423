// The floor for the small-file rows of cartridge.bench.js: what Node itself costs to
// write or read the same tree with nothing in between, one thread, as a whole process
// (start-up included, as in every diskkit row).
//   node bare-small-files.js write MANIFEST OUT  creates OUT and, from memory, every
//     directory and file MANIFEST lists (same sizes, modification times set on the open
//     file as `cp` out does: open, write, futimes, close);
//   node bare-small-files.js read TREE  reads every file under TREE whole (readdirSync
//     and readFileSync), as a copy in must.
// MANIFEST (written by `manifest` below, not timed) is JSON: { dirs: [relative paths,
// parents first], files: [[relative path, size, mtime ms], ...] }.
import { closeSync, constants, futimesSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [mode, a, b] = process.argv.slice(2);
  if (mode === 'write') write(a, b);
  else if (mode === 'read') read(a);
  else if (mode === 'manifest') manifest(a, b);
  else {
    process.stderr.write('usage: bare-small-files.js write MANIFEST OUT | read TREE | manifest TREE FILE\n');
    process.exit(2);
  }
}
