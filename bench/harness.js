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
