// The floor for the fragmented-file `cat` row of ntfs-read.bench.js: what Node itself
// costs to read a file's runs with one pread each (start-up included, as in every
// diskkit row), so the fragmented/contiguous ratio can be set beside the ratio no reader
// in Node can beat: the extra system calls of a fragmented file.
//   node bare-pread-runs.js runs IMAGE INODE OUT  writes the runs of INODE's $DATA to OUT
//     (not timed), from The Sleuth Kit (`istat` lists the clusters, `fsstat` the cluster
//     size): clusters that follow each other on disk are one run, as any reader merges them;
//   node bare-pread-runs.js read IMAGE RUNS  reads those runs in order, one readSync per run
//     into a 1 MiB buffer, written to stdout as it fills (as `diskkit cat` writes).
// RUNS is JSON: { size, runs: [[byte position, byte length], ...] }.
import { execFileSync } from 'node:child_process';
import { openSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The byte runs of `inode`'s unnamed $DATA, from istat's cluster list. */
export function runsOf(image, inode) {
  const clusterSize = Number(/Cluster Size: (\d+)/.exec(execFileSync('fsstat', [image], { encoding: 'utf8' }))[1]);
  const lines = execFileSync('istat', [image, String(inode)], { encoding: 'utf8', maxBuffer: 1 << 26 }).split('\n');
  const start = lines.findIndex((l) => /^Type: \$DATA \(128-\d+\)\s+Name: N\/A\s+Non-Resident/.test(l));
  if (start < 0) throw new Error(`istat shows no non-resident unnamed $DATA for inode ${inode}`);
  const size = Number(/ size: (\d+)/.exec(lines[start])[1]);
  const runs = [];
  for (const line of lines.slice(start + 1)) {
    if (!/^[\d ]+$/.test(line.trim()) || line.trim() === '') break;
    for (const cluster of line.trim().split(/\s+/).map(Number)) {
      const last = runs[runs.length - 1];
      if (last && last[0] + last[1] === cluster * clusterSize) last[1] += clusterSize;
      else runs.push([cluster * clusterSize, clusterSize]);
    }
  }
  // The last cluster holds the file's tail only.
  let over = runs.reduce((n, r) => n + r[1], 0) - size;
  while (over > 0) {
    const last = runs[runs.length - 1];
    const cut = Math.min(over, last[1]);
    last[1] -= cut;
    over -= cut;
    if (last[1] === 0) runs.pop();
  }
  return { size, runs };
}

function read(image, runsFile) {
  const { runs } = JSON.parse(readFileSync(runsFile, 'utf8'));
  const fd = openSync(image, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let at = 0;
  const flush = () => {
    for (let done = 0; done < at; ) done += writeSync(1, buf, done, at - done);
    at = 0;
  };
  for (const [position, length] of runs) {
    for (let done = 0; done < length; ) {
      const n = readSync(fd, buf, at, Math.min(length - done, buf.length - at), position + done);
      if (n === 0) throw new Error(`${image} ends before byte ${position + length}`);
      at += n;
      done += n;
      if (at === buf.length) flush();
    }
  }
  flush();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [action, image, a, b] = process.argv.slice(2);
  if (action === 'runs') writeFileSync(b, JSON.stringify(runsOf(image, a)));
  else if (action === 'read') read(image, a);
  else throw new Error('usage: bare-pread-runs.js runs IMAGE INODE OUT | read IMAGE RUNS');
}
