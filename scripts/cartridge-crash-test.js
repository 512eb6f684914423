#!/usr/bin/env node
/**
 * Crash test for Cartridge images: a writer (cartridge-crash-writer.js) runs a workload of
 * writes, removals, snapshot create/delete/restore and compactions, committing after every
 * step, and is SIGKILLed at seeded random instants. After each kill the image is checked
 * against the workload's model: /state is at or past the last commit the writer reported
 * and at most one further (durable and atomic), every file holds exactly the bytes of
 * that state, every snapshot exists and reads as it was, and fsck finds nothing.
 *
 *   npm run crash:cartridge -- [--kills 1000] [--seed 1] [--jobs 4] [--max-delay 1000] [--minutes M] [--keep-failures DIR] [--report FILE]
 *
 * Exported as runCartridgeCrashTest for test/cartridge/crash.test.ts (a CI-sized run).
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CartridgeStore, checkCartridge } from '../dist/engine/cartridge/index.js';
import { seededRandom as prng } from '../dist/engine/seeded-random.js';
import { simulate, stepContent } from './cartridge-crash-workload.js';

const WRITER = fileURLToPath(new URL('./cartridge-crash-writer.js', import.meta.url));


/** Image kinds the jobs cycle through. */
export const IMAGE_KINDS = [
  { name: 'lz4', compression: 1 },
  { name: 'zstd', compression: 2 },
  { name: 'none', compression: 0 },
  { name: 'lz4+aes', compression: 1, passphrase: 'crash test' },
];

/** Starts the writer and SIGKILLs it `delayMs` after it is ready; resolves with what it reported. */
function runAndKill(path, delayMs, passphrase) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, DISKKIT_PASSPHRASE: passphrase ?? '' };
    const child = spawn(process.execPath, [WRITER, path, String(delayMs)], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    // A safety net only, armed once the writer is ready (on a loaded machine a nice'd
    // writer can take a minute to start): its own `sleep; kill -KILL` is what ends it.
    let timer;
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (!timer && out.includes('ready')) timer = setTimeout(() => child.kill('SIGKILL'), delayMs + 120_000);
    });
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited by itself (code ${code}): ${err.slice(0, 2000)}`));
      const ready = Number(/ready (\d+)/.exec(out)?.[1] ?? NaN);
      const committed = [...out.matchAll(/committed (\d+)/g)].map((m) => Number(m[1]));
      // Killed after "committed K" of a step that compacts and before "compacted K": inside a compaction.
      const last = committed.at(-1);
      resolve({ out, ready, lastCommitted: committed.length ? last : ready, inCompaction: last !== undefined && last % 9 === 4 && !out.includes(`compacted ${last}`) });
    });
  });
}

function same(a, b) {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

/** Compares one view (the current tree or a snapshot) with the model's files; returns problems. */
async function compareFiles(store, files, label) {
  const problems = [];
  const names = store
    .list('/')
    .map((e) => e.name)
    .filter((n) => n !== 'state');
  const expected = [...files.keys()].sort();
  if (names.join(',') !== expected.join(',')) problems.push(`${label}: files ${names.join(',')} where ${expected.join(',')} belong`);
  for (const [name, step] of files) {
    if (!names.includes(name)) continue;
    const data = await store.readFile(`/${name}`);
    if (!same(data, stepContent(step))) problems.push(`${label}: /${name} is not the bytes of step ${step}`);
  }
  return problems;
}

/** Checks the image after a kill; returns the committed state and the problems found. */
export async function checkSurvivor(path, passphrase, reported) {
  const problems = [];
  const store = CartridgeStore.open(path, { passphrase });
  let state;
  try {
    state = Number(new TextDecoder().decode(await store.readFile('/state')));
    if (state < reported) problems.push(`state ${state} is older than the last reported commit ${reported} (not durable)`);
    if (state > reported + 1) problems.push(`state ${state} is more than one commit past the last reported ${reported}`);
    const model = simulate(state);
    problems.push(...(await compareFiles(store, model.files, 'current')));
    const snapshots = store.listSnapshots().map((s) => s.name);
    if (snapshots.join(',') !== [...model.snapshots.keys()].sort().join(',')) problems.push(`snapshots ${snapshots.join(',')} where ${[...model.snapshots.keys()].join(',')} belong`);
    for (const [name, files] of model.snapshots) {
      if (!snapshots.includes(name)) continue;
      const view = CartridgeStore.open(path, { passphrase, snapshot: name });
      try {
        problems.push(...(await compareFiles(view, files, `snapshot ${name}`)));
      } finally {
        view.close();
      }
    }
  } finally {
    store.close();
  }
  const fsck = await checkCartridge(path, { passphrase });
  for (const e of fsck.errors) problems.push(`fsck: ${e.code} ${e.message}`);
  return { state, problems };
}

/**
 * Runs `kills` kill-and-check rounds over `jobs` images at once (each job its own image
 * kind). Returns counts and every failure (kill number, kind, problems).
 */
export async function runCartridgeCrashTest({ kills = 1000, seed = 1, jobs = 3, maxDelayMs = 150, kinds = IMAGE_KINDS, onProgress, keepFailures, deadlineMs = Infinity } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dk-cart-crash-'));
  const random = prng(seed);
  const result = { kills: 0, failures: [], commitsSurvived: 0, midCommit: 0, inCompaction: 0, byKind: {}, seconds: 0 };
  const started = Date.now();
  let next = 0;
  try {
    const job = async (j) => {
      const kind = kinds[j % kinds.length];
      const path = join(dir, `job${j}.cart`);
      const created = CartridgeStore.create(path, { compression: kind.compression, passphrase: kind.passphrase, extentSize: 65536 });
      await created.writeFile('/state', new TextEncoder().encode('0'));
      created.commit();
      created.close();
      let previous = 0;
      while (next < kills && Date.now() - started < deadlineMs) {
        const n = next++;
        const delay = Math.floor(random() * maxDelayMs);
        const run = await runAndKill(path, delay, kind.passphrase);
        const problems = [];
        if (run.ready !== previous) problems.push(`writer started at state ${run.ready}, the last check saw ${previous}`);
        let state = previous;
        try {
          const checked = await checkSurvivor(path, kind.passphrase, run.lastCommitted);
          problems.push(...checked.problems);
          state = checked.state ?? previous;
        } catch (error) {
          problems.push(`check threw: ${error?.code ?? ''} ${error?.message ?? error}`);
        }
        result.kills++;
        result.byKind[kind.name] = (result.byKind[kind.name] ?? 0) + 1;
        if (state > run.lastCommitted) result.midCommit++;
        if (run.inCompaction) result.inCompaction++;
        result.commitsSurvived += Math.max(0, state - previous);
        if (problems.length > 0) {
          result.failures.push({ kill: n, kind: kind.name, delay, problems, lastCommitted: run.lastCommitted });
          if (keepFailures) copyFileSync(path, join(keepFailures, `kill${n}-${kind.name}.cart`));
        }
        previous = state;
        onProgress?.(result);
      }
    };
    await Promise.all(Array.from({ length: jobs }, (_, j) => job(j)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  result.seconds = (Date.now() - started) / 1000;
  return result;
}

function argValue(args, name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const kills = Number(argValue(args, '--kills', '1000'));
  const seed = Number(argValue(args, '--seed', '1'));
  const jobs = Number(argValue(args, '--jobs', '4'));
  const maxDelayMs = Number(argValue(args, '--max-delay', '1000'));
  const minutes = Number(argValue(args, '--minutes', 'Infinity'));
  const keepFailures = argValue(args, '--keep-failures', undefined);
  const report = argValue(args, '--report', undefined);
  let shown = 0;
  const result = await runCartridgeCrashTest({
    kills,
    seed,
    jobs,
    maxDelayMs,
    keepFailures,
    deadlineMs: minutes * 60_000,
    onProgress: (r) => {
      if (r.kills - shown >= 50 || r.kills === kills) {
        shown = r.kills;
        process.stderr.write(`${r.kills}/${kills} kills, ${r.failures.length} failures, ${r.commitsSurvived} commits checked\n`);
      }
    },
  });
  const summary = { ...result, failures: result.failures.slice(0, 50), failureCount: result.failures.length, seed, jobs, maxDelayMs, killsPerSecond: result.kills / result.seconds };
  const text = JSON.stringify(summary, null, 2);
  if (report) writeFileSync(report, text + '\n');
  process.stdout.write(text + '\n');
  process.exitCode = result.failures.length === 0 ? 0 : 1;
}
