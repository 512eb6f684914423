#!/usr/bin/env node
/**
 * Crash test, the way SQLite tests its journal: SIGKILL a write command at seeded
 * random instants spread over its whole run, then let the next diskkit command
 * recover the image, and check with other tools that every file is either as it
 * was before the command or as the command left it:
 *   - `fsck.fat -n` says what it said about the state matched (clean for cp/rm/mv);
 *   - `mdir -/ -a` (names, sizes, dates, free space) and every file's bytes (extracted
 *     with `mcopy -s`) equal the "before" or the "after" state, taken from an
 *     uninterrupted run.
 *
 *   npm run crash -- [--kills 1000] [--seed 1] [--scale full|ci] [--scenarios cp,rm,mv,fsck] [--jobs 1] [--minutes M] [--report FILE]
 *
 * Exported as runCrashTest for test/crash-safety.test.ts (a CI-sized run).
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, watch, writeFileSync, openSync, readSync, writeSync, closeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom as prng } from '../dist/engine/seeded-random.js';

const BIN = fileURLToPath(new URL('../bin/diskkit.js', import.meta.url));
const MENV = { ...process.env, MTOOLS_SKIP_CHECK: '1', NO_COLOR: '1' };
const JOURNAL_SUFFIX = '.diskkit-journal';


function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: MENV, maxBuffer: 64 * 1024 * 1024, ...options });
  if (r.error) throw r.error;
  return r;
}

/** run() without blocking the event loop: the kill timers of the other job must fire on time. */
function runAsync(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: MENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    // 'close', not 'exit': the output may still be in the pipe when the process has exited.
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function must(cmd, args, options) {
  const r = run(cmd, args, options);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r;
}

const FAT_SPECS = { fat12: ['12', '1440'], fat16: ['16', '16384'], fat32: ['32', '40960'] };

function mkfsFat(img, type) {
  const [bits, kib] = FAT_SPECS[type];
  must('mkfs.fat', ['-C', '-F', bits, '-i', '12345678', '--invariant', img, kib], { env: { ...MENV, SOURCE_DATE_EPOCH: '1700000000' } });
}

/** A host tree of `dirs` directories of `files` files each, sizes up to `maxBytes`, fixed mtimes. */
function makeHostTree(root, rng, dirs, files, maxBytes) {
  mkdirSync(root, { recursive: true });
  for (let d = 0; d < dirs; d++) {
    const dir = join(root, `dir${d}`);
    mkdirSync(dir);
    for (let f = 0; f < files; f++) {
      const size = Math.floor(rng() * maxBytes);
      const buf = Buffer.alloc(size);
      for (let i = 0; i < size; i++) buf[i] = (rng() * 256) >>> 0;
      // Long names too, so long-name slots are written.
      writeFileSync(join(dir, f % 3 === 0 ? `A long file name ${f}.data` : `f${f}.bin`), buf);
    }
  }
  run('find', [root, '-exec', 'touch', '-d', '2024-05-01 12:00:00', '{}', '+']);
}

/** What another tool sees: fsck.fat's verdict, mdir's listing, and every file's bytes. */
async function fingerprint(img, work, { stripTimes = false } = {}) {
  const fsck = await runAsync('fsck.fat', ['-n', img]);
  const fsckText = `${fsck.status}\n${fsck.stdout}${fsck.stderr}`.replace(/^fsck\.fat .*\n/m, '').split(img).join('IMAGE');
  let listing = (await runAsync('mdir', ['-/', '-a', '-i', img, '::/'])).stdout;
  if (stripTimes) listing = listing.replace(/\d{4}-\d{2}-\d{2}\s+\d{1,2}:\d{2}/g, 'DATE');
  const out = join(work, 'extract');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
  await runAsync('mcopy', ['-s', '-n', '-i', img, '::/*', out + '/']);
  const files = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) {
        files.push(relative(out, full) + '/');
        walk(full);
      } else files.push(`${relative(out, full)} ${createHash('sha1').update(readFileSync(full)).digest('hex')}`);
    }
  };
  walk(out);
  return { fsck: fsckText, fsckClean: fsck.status === 0, state: `${listing}\n${files.join('\n')}` };
}

/** Lost chains, a FAT copy that differs and the dirty flag: work for fsck --repair. */
function corruptForRepair(img, rng, chains) {
  const fd = openSync(img, 'r+');
  try {
    const boot = Buffer.alloc(512);
    readSync(fd, boot, 0, 512, 0);
    const bps = boot.readUInt16LE(11);
    const reserved = boot.readUInt16LE(14);
    const fats = boot[16];
    const perFat = boot.readUInt16LE(22);
    const fat = Buffer.alloc(perFat * bps);
    readSync(fd, fat, 0, fat.length, reserved * bps);
    const total = Math.floor((perFat * bps) / 2);
    let c = Math.floor(total * 0.6);
    for (let i = 0; i < chains; i++) {
      while (fat.readUInt16LE(c * 2) !== 0 || fat.readUInt16LE(c * 2 + 2) !== 0) c++;
      fat.writeUInt16LE(c + 1, c * 2);
      fat.writeUInt16LE(0xffff, c * 2 + 2);
      c += 2 + Math.floor(rng() * 3);
    }
    fat.writeUInt16LE(fat.readUInt16LE(2) & 0x7fff, 2); // FAT[1] clean bit off: dirty
    for (let copy = 0; copy < fats; copy++) writeSync(fd, fat, 0, fat.length, (reserved + copy * perFat) * bps);
    // One entry differs in the second copy only.
    const odd = Buffer.alloc(2);
    odd.writeUInt16LE(0xfff7);
    writeSync(fd, odd, 0, 2, (reserved + perFat) * bps + (c + 7) * 2);
  } finally {
    closeSync(fd);
  }
}

const SCALES = {
  full: { cp: [8, 20, 10000], old: [8, 16, 5000], chains: 200 },
  ci: { cp: [4, 12, 8000], old: [5, 12, 4000], chains: 80 },
};

/** Each scenario: a base image, the diskkit command, and whether fsck.fat may differ from clean in the before state. */
function setupScenarios(dir, rng, scale, names) {
  const s = SCALES[scale];
  const out = [];
  const host = join(dir, 'host');
  makeHostTree(host, rng, ...s.cp);
  const old = join(dir, 'old');
  makeHostTree(old, rng, ...s.old);
  if (names.includes('cp')) {
    const img = join(dir, 'cp.img');
    mkfsFat(img, 'fat32');
    must('mcopy', ['-s', '-m', '-i', img, old, '::/']);
    out.push({ name: 'cp -r (FAT32)', key: 'cp', img, args: (i) => ['cp', '-r', host, `${i}:/new`] });
  }
  if (names.includes('rm')) {
    const img = join(dir, 'rm.img');
    mkfsFat(img, 'fat16');
    must('mcopy', ['-s', '-m', '-i', img, old, '::/']);
    must('mcopy', ['-s', '-m', '-i', img, host, '::/']);
    out.push({ name: 'rm -r (FAT16)', key: 'rm', img, args: (i) => ['rm', '-r', `${i}:/old`, `${i}:/host/dir1`] });
  }
  if (names.includes('mv')) {
    const img = join(dir, 'mv.img');
    mkfsFat(img, 'fat16');
    must('mcopy', ['-s', '-m', '-i', img, old, '::/']);
    must('mmd', ['-i', img, '::/dest']);
    const dirs = readdirSync(old).sort();
    const files = readdirSync(join(old, dirs[0])).sort();
    const moves = [...dirs.slice(1).map((d) => `/old/${d}`), ...files.map((f) => `/old/${dirs[0]}/${f}`)];
    out.push({ name: 'mv (FAT16)', key: 'mv', img, args: (i) => ['mv', ...moves.map((m) => `${i}:${m}`), `${i}:/dest`] });
  }
  if (names.includes('fsck')) {
    const img = join(dir, 'fsck.img');
    mkfsFat(img, 'fat16');
    must('mcopy', ['-s', '-m', '-i', img, old, '::/']);
    corruptForRepair(img, rng, s.chains);
    out.push({ name: 'fsck --repair (FAT16)', key: 'fsck', img, args: (i) => ['fsck', '--repair', i], stripTimes: true, repairs: true });
  }
  return out;
}

/**
 * Runs `diskkit args` and resolves how it ended and when the image's journal first
 * appeared (the write phase began). `kill`: null lets it finish; `{ at }` SIGKILLs it
 * `at` ms after the start; `{ afterJournal }` that many ms after the journal appears
 * (so start-up jitter on a loaded machine cannot push kills past the write phase).
 */
function runDiskkit(args, kill, journal) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: MENV });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    let timer = null;
    if (kill && kill.at !== undefined) timer = setTimeout(() => child.kill('SIGKILL'), kill.at);
    let journalMs = null;
    const seen = () => {
      if (journalMs !== null) return;
      journalMs = performance.now() - started;
      if (kill && kill.afterJournal !== undefined) timer = setTimeout(() => child.kill('SIGKILL'), kill.afterJournal);
    };
    const poll = setInterval(() => {
      if (existsSync(journal)) seen();
    }, 1);
    // A command whose write phase is shorter than a poll on a loaded machine still shows it:
    // inotify reports the journal's creation even when the file is gone by the time we look.
    const watcher = watch(dirname(journal), (_event, name) => {
      if (name === basename(journal)) seen();
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      clearInterval(poll);
      watcher.close();
      resolve({ code, signal, ms: performance.now() - started, journalMs, stderr });
    });
  });
}

/** One kill: a fresh copy of the base image, the command killed at `at` ms, recovery, and the checks. */
async function killOnce(sc, work, at, before, after) {
  const img = join(work, 'image.img');
  copyFileSync(sc.img, img);
  const ended = await runDiskkit(sc.args(img), at, img + JOURNAL_SUFFIX);
  const out = { killedMidCommand: ended.signal === 'SIGKILL', hotJournal: existsSync(img + JOURNAL_SUFFIX), matches: null, problems: [] };
  const recovery = await runAsync(process.execPath, [BIN, 'info', img]);
  if (recovery.status !== 0) out.problems.push(`recovery command exited ${recovery.status}: ${recovery.stderr.trim()}`);
  if (recovery.stderr.split('\n').some((l) => l !== '' && !/warning: (rolled back an interrupted diskkit write|removed a finished or empty journal)/.test(l))) {
    out.problems.push(`unexpected stderr from the recovery command: ${recovery.stderr.trim()}`);
  }
  if (existsSync(img + JOURNAL_SUFFIX)) out.problems.push('the journal is still there after recovery');
  const now = await fingerprint(img, work, sc);
  out.matches = now.state === before.state && now.fsck === before.fsck ? 'before' : now.state === after.state && now.fsck === after.fsck ? 'after' : null;
  if (!out.matches) {
    out.problems.push(`state matches neither before nor after (fsck.fat: ${now.fsck.trim().split('\n').slice(0, 6).join(' | ')})`);
    out.seen = now;
  }
  return out;
}

/**
 * Runs the crash test. Kill instants: a quarter uniform over the whole run (start-up
 * included), the rest uniform over the write phase, counted from the moment the
 * journal appears; both lengths measured on uninterrupted runs first. Returns a
 * summary per scenario.
 */
export async function runCrashTest({ kills = 1000, seed = 1, scale = 'full', scenarios = ['cp', 'rm', 'mv', 'fsck'], jobs = 1, minutes = Infinity, log = () => {}, progress = () => {} } = {}) {
  const rng = prng(seed);
  const dir = mkdtempSync(join(tmpdir(), 'diskkit-crash-'));
  const started = Date.now();
  const results = [];
  const summary = () => ({ seed, scale, seconds: Math.round((Date.now() - started) / 1000), results, workDir: dir });
  try {
    const list = setupScenarios(dir, rng, scale, scenarios);
    const perScenario = Math.ceil(kills / list.length);
    const prepared = [];
    for (const sc of list) {
      const works = Array.from({ length: jobs }, (_, j) => join(dir, `work-${sc.key}-${j}`));
      for (const w of works) mkdirSync(w);
      const img = join(works[0], 'image.img');
      const before = await fingerprint(sc.img, works[0], sc);
      const lengths = [];
      const writeStarts = [];
      let after = null;
      for (let i = 0; i < 3; i++) {
        copyFileSync(sc.img, img);
        const r = await runDiskkit(sc.args(img), null, img + JOURNAL_SUFFIX);
        if (r.journalMs === null) throw new Error(`${sc.name}: no journal seen during an uninterrupted run`);
        if (sc.repairs ? r.code !== 1 : r.code !== 0) throw new Error(`${sc.name}: uninterrupted run exited ${r.code}: ${r.stderr}`);
        lengths.push(r.ms);
        writeStarts.push(r.journalMs ?? 0);
        after ??= await fingerprint(img, works[0], sc);
      }
      if (!after.fsckClean) throw new Error(`${sc.name}: fsck.fat -n is not clean after an uninterrupted run:\n${after.fsck}`);
      if (after.state === before.state) throw new Error(`${sc.name}: the command changes nothing mtools can see`);
      const median = (xs) => [...xs].sort((a, b) => a - b)[1];
      const length = median(lengths);
      const writeStart = Math.min(median(writeStarts), length);
      const instants = Array.from({ length: perScenario }, () => (rng() < 0.25 ? { at: rng() * length } : { afterJournal: rng() * (length - writeStart) }));
      const r = { scenario: sc.name, commandMs: Math.round(length), writeStartMs: Math.round(writeStart), kills: 0, killedMidCommand: 0, hotJournal: 0, before: 0, after: 0, failures: [] };
      results.push(r);
      prepared.push({ sc, works, before, after, instants, r });
    }
    // Kills go round the scenarios, so a run cut short by --minutes still covers every command.
    const queue = [];
    for (let k = 0; k < perScenario; k++) for (const p of prepared) queue.push({ p, k });
    const deadline = started + minutes * 60_000;
    let next = 0;
    let done = 0;
    const worker = async (j) => {
      while (next < queue.length && Date.now() < deadline) {
        const { p, k } = queue[next++];
        const { sc, before, after, r } = p;
        const work = p.works[j];
        const o = await killOnce(sc, work, p.instants[k], before, after);
        r.kills++;
        if (o.killedMidCommand) r.killedMidCommand++;
        if (o.hotJournal) r.hotJournal++;
        if (o.matches) r[o.matches]++;
        if (o.problems.length > 0) {
          const keep = join(dir, `failure-${sc.key}-${k}.img`);
          copyFileSync(join(work, 'image.img'), keep);
          if (o.seen) writeFileSync(`${keep}.seen.txt`, `${o.seen.fsck}\n${o.seen.state}\n--- before ---\n${before.fsck}\n${before.state}\n--- after ---\n${after.fsck}\n${after.state}\n`);
          r.failures.push({ kill: k, when: p.instants[k], problems: o.problems, image: keep });
        }
        if (++done % 20 === 0) {
          log(`${done}/${queue.length} kills, ${results.reduce((n, x) => n + x.failures.length, 0)} failures`);
          progress(summary());
        }
      }
    };
    await Promise.all(Array.from({ length: jobs }, (_, j) => worker(j)));
  } finally {
    if (!results.some((r) => r.failures.length > 0)) rmSync(dir, { recursive: true, force: true });
  }
  return summary();
}

function markdown(summary) {
  const rows = summary.results.map(
    (r) => `| ${r.scenario} | ${r.commandMs} | ${r.writeStartMs} | ${r.kills} | ${r.killedMidCommand} | ${r.hotJournal} | ${r.before} | ${r.after} | ${r.failures.length} |`,
  );
  return [
    `Seed ${summary.seed}, scale ${summary.scale}, ${summary.results.reduce((n, r) => n + r.kills, 0)} kills in ${summary.seconds} s, ${summary.results.reduce((n, r) => n + r.failures.length, 0)} failures.`,
    '',
    '| command | uninterrupted run (ms) | write phase from (ms) | kills | killed before it ended | hot journal left | state = before | state = after | failures |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const argv = process.argv.slice(2);
  const opt = (name, fallback) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : fallback;
  };
  const report = opt('report', null);
  const summary = await runCrashTest({
    kills: Number(opt('kills', '1000')),
    seed: Number(opt('seed', '1')),
    scale: opt('scale', 'full'),
    scenarios: opt('scenarios', 'cp,rm,mv,fsck').split(','),
    jobs: Number(opt('jobs', '1')),
    minutes: Number(opt('minutes', 'Infinity')),
    log: (line) => process.stderr.write(line + '\n'),
    // A partial table after every 20 kills: a long run stopped early still leaves its figures.
    progress: (partial) => report && writeFileSync(report, markdown(partial) + '\n'),
  });
  const text = markdown(summary);
  process.stdout.write(text + '\n');
  for (const r of summary.results) for (const f of r.failures) process.stdout.write(`FAIL ${r.scenario} kill ${f.kill} at ${JSON.stringify(f.when)} ms: ${f.problems.join('; ')} (${f.image})\n`);
  if (report) writeFileSync(report, text + '\n');
  process.exitCode = summary.results.some((r) => r.failures.length > 0) ? 1 : 0;
}
