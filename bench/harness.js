// Shared measuring helpers for bench/*.bench.js: whole-process timing with warm-up,
// medians, and peak RSS via /usr/bin/time when present.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs `cmd args` `runs` times after one warm-up; returns the median wall seconds and the spread, and the median CPU seconds (user+sys, from GNU time; null without it). */
export function timeCommand(cmd, args, { runs = 5, stdout = 'ignore', env } = {}) {
  const cpuFile = join(tmpdir(), `bench-cpu-${process.pid}.txt`);
  const useTime = existsSync('/usr/bin/time');
  const cpus = [];
  const once = () => {
    const [c, a] = useTime ? ['/usr/bin/time', ['-o', cpuFile, '-f', '%U %S', cmd, ...args]] : [cmd, args];
    const t0 = process.hrtime.bigint();
    const r = spawnSync(c, a, { stdio: ['ignore', stdout, 'pipe'], env: env ?? process.env, maxBuffer: 1 << 30 });
    const t = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    if (useTime) {
      const [user, sys] = readFileSync(cpuFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
      cpus.push(user + sys);
    }
    return t;
  };
  once();
  cpus.length = 0;
  const times = [];
  for (let i = 0; i < runs; i++) times.push(once());
  times.sort((a, b) => a - b);
  cpus.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], min: times[0], max: times[times.length - 1], runs, cpuMedian: cpus.length ? cpus[Math.floor(cpus.length / 2)] : null };
}

/** Peak resident memory (MiB) of one run, from GNU time; null when /usr/bin/time is absent. */
export function peakRssMiB(cmd, args, { env } = {}) {
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: env ?? process.env, encoding: 'utf8' });
  if (r.error) return null;
  const lines = r.stderr.trim().split('\n');
  const kb = Number(lines[lines.length - 1]);
  return Number.isFinite(kb) ? kb / 1024 : null;
}

export function fmt(seconds) {
  return seconds < 1 ? `${(seconds * 1000).toFixed(1)} ms` : `${seconds.toFixed(2)} s`;
}

export function ratio(a, b) {
  return `${(a / b).toFixed(2)}×`;
}

/**
 * How much two threads get done against one on this machine right now: bare SHA-256
 * of 1 MiB buffers, 1,024 in one worker vs 512 in each of two (no I/O, no diskkit).
 * 2.0 is two free cores; a shared VM often gives less, and then no parallel mode can
 * scale further. Medians of 3 alternating runs.
 */
export async function threadScalingControl() {
  const { Worker } = await import('node:worker_threads');
  const code = `const {createHash}=require('crypto');const {parentPort,workerData}=require('worker_threads');const b=Buffer.alloc(1<<20,1);for(let i=0;i<workerData;i++)createHash('sha256').update(b).digest();parentPort.postMessage(0);`;
  const run = async (threads) => {
    const t0 = performance.now();
    await Promise.all(Array.from({ length: threads }, () => new Promise((resolve, reject) => {
      const w = new Worker(code, { eval: true, workerData: 1024 / threads });
      w.on('message', resolve);
      w.on('error', reject);
    })));
    return performance.now() - t0;
  };
  const one = [];
  const two = [];
  for (let i = 0; i < 3; i++) {
    one.push(await run(1));
    two.push(await run(2));
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[1];
  return med(one) / med(two);
}

/**
 * Runs the commands in turn, `runs` rounds after one warm-up round, each under
 * /usr/bin/time, stdout to /dev/null or to a file per command: on a loaded machine
 * every command sees the same load. Returns per command the median wall and CPU
 * (user + system) seconds and the largest peak RSS (MiB).
 */
export function alternateCommands(commands, runs, { env } = {}) {
  const samples = commands.map(() => []);
  for (let round = -1; round < runs; round++) {
    commands.forEach(([cmd, args], i) => {
      const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 26, env: env ?? process.env });
      if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
      const [wall, user, sys, kb] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
      if (round >= 0) samples[i].push({ wall, cpu: user + sys, rss: kb / 1024 });
    });
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];
  return samples.map((xs) => ({ wall: median(xs.map((x) => x.wall)), cpu: median(xs.map((x) => x.cpu)), rss: Math.max(...xs.map((x) => x.rss)) }));
}
