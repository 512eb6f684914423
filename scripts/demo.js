#!/usr/bin/env node
// `npm start`: a short tour of diskkit on a fresh image in a temporary directory.
// Each step runs the real CLI, as a user would.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/diskkit.js', import.meta.url));
function step(title, args) {
  process.stdout.write(`\n$ diskkit ${args.join(' ')}    # ${title}\n`);
  execFileSync(process.execPath, [bin, ...args], { stdio: 'inherit' });
}

step('version', ['--version']);
