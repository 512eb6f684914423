/**
 * `mft index SRC...` over many sources (issue 13): each source's output equals what
 * a single-source run writes, failures (corrupt, missing) are reported per source
 * without stopping the others (exit 1), --jobs does not change any output, names
 * that collide in --out-dir are resolved and reported, the combined stream puts the
 * source in front of each row, and Ctrl-C leaves no partial file.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, diskkit as runCli } from './helpers/cli.js';
import { buildDump, dirRecord, fileRecord } from './helpers/mft-builder.js';
import { prefixRows } from '../src/engine/fleet/row-prefix.js';
import { outputNamesFor } from '../src/engine/fleet/output-names.js';
import { largestFirst, runSources, threadsPerJob } from '../src/engine/fleet/run-sources.js';

const SHIPPED = fileURLToPath(new URL('../fixtures/ntfs/small.mft', import.meta.url));
const FAKE_WORKER = fileURLToPath(new URL('./helpers/fake-format-worker.mjs', import.meta.url));
const LANE_PROBE = fileURLToPath(new URL('./helpers/lane-probe.mjs', import.meta.url));
let dir = '';
let built = '';
let twin = '';
let corrupt = '';
let missing = '';

interface FleetJson {
  sources: { source: string; ok: boolean; output?: string; renamed?: boolean; error?: { code: string; message: string }; summary?: { rows: number } }[];
  failed: number;
  threadsPerSource: number;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'diskkit-fleet-'));
  // A second, different dump: a directory with files, one name holding a comma and a quote (CSV quoting).
  const records = new Map<number, Uint8Array>([[16, dirRecord('docs', 5)], [17, fileRecord('a,"b".txt', 16, { size: 10 })], [18, fileRecord('c.txt', 16)]]);
  built = join(dir, 'built.mft');
  writeFileSync(built, buildDump(records, 32));
  // The shipped dump again, under the same base name in another directory: its output name collides.
  mkdirSync(join(dir, 'other'));
  twin = join(dir, 'other', 'small.mft');
  writeFileSync(twin, readFileSync(SHIPPED));
  corrupt = join(dir, 'corrupt.mft');
  writeFileSync(corrupt, Buffer.alloc(8192, 0x5a));
  missing = join(dir, 'missing.mft');
});

/** The CLI with stdout kept exactly (execa drops a final newline by default). */
const diskkit = (args: string[]) => runCli(args, { stripFinalNewline: false });

async function single(source: string, format = 'jsonl'): Promise<string> {
  const r = await diskkit(['mft', 'index', source, '--format', format]);
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stdout;
}

describe('mft index with several sources', () => {
  it('indexes the good sources, names the corrupt and the missing one, and exits 1', async () => {
    const out = join(dir, 'out-failures');
    const r = await diskkit(['--json', 'mft', 'index', SHIPPED, corrupt, missing, built, '--out-dir', out]);
    expect(r.exitCode).toBe(1);
    const summary = JSON.parse(r.stdout) as FleetJson;
    expect(summary.failed).toBe(2);
    expect(summary.sources.map((s) => [s.source, s.ok])).toEqual([[SHIPPED, true], [corrupt, false], [missing, false], [built, true]]);
    expect(summary.sources[1]!.error!.message).toMatch(/neither an NTFS volume nor an \$MFT dump/);
    expect(summary.sources[2]!.error!.message).toMatch(/no such file/);
    expect(readdirSync(out).sort()).toEqual(['built.mft.jsonl', 'small.mft.jsonl']);
    expect(readFileSync(join(out, 'small.mft.jsonl'), 'utf8')).toBe(await single(SHIPPED));
    expect(readFileSync(join(out, 'built.mft.jsonl'), 'utf8')).toBe(await single(built));
    expect(summary.sources[0]!.summary!.rows).toBe((await single(SHIPPED)).trim().split('\n').length);
  });

  it('without --json the failures are error lines on stderr, one per failed source', async () => {
    const r = await diskkit(['mft', 'index', SHIPPED, missing, '--out-dir', join(dir, 'out-human')]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([`diskkit: ${missing}: cannot open image: no such file`]);
  });

  it.each(['jsonl', 'csv', 'bodyfile'])('--jobs 1 and --jobs 4 write identical per-source %s files, equal to single-source runs', async (format) => {
    const a = join(dir, `jobs1-${format}`);
    const b = join(dir, `jobs4-${format}`);
    const sources = [SHIPPED, built, twin];
    const r1 = await diskkit(['mft', 'index', ...sources, '--out-dir', a, '--jobs', '1', '--format', format]);
    const r4 = await diskkit(['mft', 'index', ...sources, '--out-dir', b, '--jobs', '4', '--format', format]);
    expect(r1.exitCode, r1.stderr).toBe(0);
    expect(r4.exitCode, r4.stderr).toBe(0);
    const ext = format === 'bodyfile' ? 'body' : format;
    const files = [`small.mft.${ext}`, `built.mft.${ext}`, `small.mft-2.${ext}`];
    expect(readdirSync(a).sort()).toEqual([...files].sort());
    expect(readdirSync(b).sort()).toEqual([...files].sort());
    for (const [i, f] of files.entries()) {
      const one = readFileSync(join(a, f), 'utf8');
      expect(readFileSync(join(b, f), 'utf8')).toBe(one);
      expect(one).toBe(await single(sources[i]!, format));
    }
  });

  it('shares one thread budget: pipelines running at once never start more parse or format threads than it holds', async () => {
    const env = { NO_COLOR: '1', DISKKIT_THREADS: '2', DISKKIT_FORMAT_WORKER_MIN_RECORDS: '0' };
    for (const jobs of [1, 3]) {
      const r = await runCli(['--json', 'mft', 'index', SHIPPED, built, twin, '--out-dir', join(dir, `budget-${jobs}`), '--jobs', String(jobs), '--mode', 'parallel'], { env });
      expect(r.exitCode, r.stderr).toBe(0);
      const summary = JSON.parse(r.stdout) as FleetJson & { sources: { summary?: { workers: number; formatThreads: number } }[] };
      const budget = Math.min(2, (await import('node:os')).availableParallelism());
      expect(summary.threadsPerSource).toBe(Math.max(1, Math.floor(budget / jobs)));
      for (const s of summary.sources) {
        expect(s.summary!.workers).toBeLessThanOrEqual(summary.threadsPerSource);
        expect(s.summary!.formatThreads).toBeLessThanOrEqual(summary.threadsPerSource);
      }
    }
  });

  it('a lane hands the parse workers it started ahead to the scan (one set of workers per source, not two)', async () => {
    const r = await runCli(['--json', 'mft', 'index', SHIPPED, built, '--out-dir', join(dir, 'ahead'), '--jobs', '1', '--mode', 'parallel', '--stats'], { env: { NO_COLOR: '1', DISKKIT_THREADS: '2' } });
    expect(r.exitCode, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as FleetJson & { sources: { summary?: { mode: string; scan?: { stats: { workersStartedAhead: boolean } } } }[] };
    for (const s of summary.sources) {
      expect(s.summary!.mode).toBe('parallel');
      expect(s.summary!.scan!.stats.workersStartedAhead).toBe(true);
    }
  });

  it('reports a renamed output file in the summary', async () => {
    const r = await diskkit(['--json', 'mft', 'index', SHIPPED, twin, '--out-dir', join(dir, 'out-renamed')]);
    expect(r.exitCode, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as FleetJson;
    expect(summary.sources.map((s) => [s.output, s.renamed ?? false])).toEqual([
      [join(dir, 'out-renamed', 'small.mft.jsonl'), false],
      [join(dir, 'out-renamed', 'small.mft-2.jsonl'), true],
    ]);
  });

  it('without --out-dir all rows go to one stream, in source order, each with its source first', async () => {
    const one = await diskkit(['mft', 'index', SHIPPED, built, '--jobs', '1']);
    const two = await diskkit(['mft', 'index', SHIPPED, built, '--jobs', '4']);
    expect(one.exitCode, one.stderr).toBe(0);
    expect(two.stdout).toBe(one.stdout);
    const expected = [SHIPPED, built].flatMap((s) => readFileSync(join(dir, 'jobs1-jsonl', s === SHIPPED ? 'small.mft.jsonl' : 'built.mft.jsonl'), 'utf8').trim().split('\n').map((l) => ({ source: s, ...JSON.parse(l) })));
    const rows = one.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toEqual(expected);
    expect(Object.keys(rows[0]!)[0]).toBe('source');
  });

  it('the combined CSV has one header with a source column, and quoted fields survive', async () => {
    const r = await diskkit(['mft', 'index', built, SHIPPED, '--format', 'csv', '--jobs', '2']);
    expect(r.exitCode, r.stderr).toBe(0);
    const builtCsv = await single(built, 'csv');
    const shippedCsv = await single(SHIPPED, 'csv');
    const [header, ...builtRows] = builtCsv.trimEnd().split('\n');
    const shippedRows = shippedCsv.trimEnd().split('\n').slice(1);
    expect(r.stdout).toBe([`source,${header}`, ...builtRows.map((l) => `${built},${l}`), ...shippedRows.map((l) => `${SHIPPED},${l}`)].join('\n') + '\n');
    expect(r.stdout).toContain('"a,""b"".txt"');
  });

  it('--out FILE with several sources writes the combined stream to that file', async () => {
    const out = join(dir, 'combined.jsonl');
    const r = await diskkit(['mft', 'index', SHIPPED, built, '--out', out]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe((await diskkit(['mft', 'index', SHIPPED, built])).stdout);
  });

  it('stops quietly when the reader of the combined stream goes away (| head), and reports a full disk clearly', async () => {
    const piped = await execa('bash', ['-c', `node '${BIN}' mft index '${SHIPPED}' '${twin}' '${built}' | head -c 100 > /dev/null; echo "\${PIPESTATUS[0]}"`], { reject: false, encoding: 'utf8', env: { NO_COLOR: '1' } });
    expect(piped.stdout.trim()).toBe('0');
    expect(piped.stderr).toBe('');
    const full = await execa('bash', ['-c', `node '${BIN}' mft index '${SHIPPED}' '${built}' --format csv > /dev/full`], { reject: false, encoding: 'utf8', env: { NO_COLOR: '1' } });
    expect(full.exitCode).toBe(1);
    expect(full.stderr.trim()).toBe('diskkit: cannot write: ENOSPC: no space left on device, write (path stdout)');
  });

  it('refuses parquet with several sources and no --out-dir, and --out with --out-dir (usage, exit 2)', async () => {
    const a = await diskkit(['mft', 'index', SHIPPED, built, '--format', 'parquet']);
    expect(a.exitCode).toBe(2);
    expect(a.stderr).toMatch(/--format parquet with several sources needs --out-dir/);
    const b = await diskkit(['mft', 'index', SHIPPED, built, '--out', join(dir, 'x'), '--out-dir', join(dir, 'y')]);
    expect(b.exitCode).toBe(2);
    const c = await diskkit(['mft', 'index', SHIPPED, built, '--jobs', '0']);
    expect(c.exitCode).toBe(2);
  });

  it('a lane that crashes fails only the source it was indexing: a new lane indexes the rest', async () => {
    const crashing = join(dir, 'crash-here.mft');
    writeFileSync(crashing, readFileSync(SHIPPED));
    const out = join(dir, 'out-crash');
    const r = await runCli(['--json', 'mft', 'index', SHIPPED, crashing, built, '--out-dir', out, '--jobs', '1'], {
      env: { NO_COLOR: '1', NODE_OPTIONS: `--import ${LANE_PROBE}`, LANE_PROBE_CRASH: 'crash-here.mft' },
    });
    expect(r.exitCode).toBe(1);
    const summary = JSON.parse(r.stdout) as FleetJson;
    expect(summary.sources.map((s) => [s.source, s.ok])).toEqual([[SHIPPED, true], [crashing, false], [built, true]]);
    expect(summary.sources[1]!.error!.message).toMatch(/indexing process ended \(SIGKILL\)/);
    expect(readdirSync(out).sort()).toEqual(['built.mft.jsonl', 'small.mft.jsonl']);
    expect(readFileSync(join(out, 'small.mft.jsonl'), 'utf8')).toBe(await single(SHIPPED));
    expect(readFileSync(join(out, 'built.mft.jsonl'), 'utf8')).toBe(await single(built));
  });

  it('lanes start without NODE_EXTRA_CA_CERTS (they open no TLS connection) and with every other variable', async () => {
    const probes = mkdtempSync(join(dir, 'lane-env-'));
    const certs = join(dir, 'extra-ca.pem');
    writeFileSync(certs, '');
    const r = await runCli(['--json', 'mft', 'index', SHIPPED, built, '--out-dir', join(dir, 'out-env'), '--jobs', '2'], {
      env: { NO_COLOR: '1', NODE_OPTIONS: `--import ${LANE_PROBE}`, LANE_PROBE_DIR: probes, LANE_PROBE_VALUE: 'kept', NODE_EXTRA_CA_CERTS: certs },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const seen = readdirSync(probes).map((f) => JSON.parse(readFileSync(join(probes, f), 'utf8')) as { extraCaCerts: unknown; probe: unknown });
    expect(seen.map(({ extraCaCerts, probe }) => ({ extraCaCerts, probe }))).toEqual([{ extraCaCerts: null, probe: 'kept' }, { extraCaCerts: null, probe: 'kept' }]);
  });

  it('lanes that take every core at once run V8 on their own thread (--single-threaded); a lane with a core to spare keeps its helper threads', async () => {
    const cores = availableParallelism();
    const sources = [SHIPPED, built, twin];
    for (const jobs of [1, 3]) {
      const probes = mkdtempSync(join(dir, `lane-flags-${jobs}-`));
      const r = await runCli(['--json', 'mft', 'index', ...sources, '--out-dir', join(dir, `out-flags-${jobs}`), '--jobs', String(jobs)], {
        env: { NO_COLOR: '1', NODE_OPTIONS: `--import ${LANE_PROBE}`, LANE_PROBE_DIR: probes },
      });
      expect(r.exitCode, r.stderr).toBe(0);
      const seen = readdirSync(probes).map((f) => (JSON.parse(readFileSync(join(probes, f), 'utf8')) as { execArgv: string[] }).execArgv);
      expect(seen).toHaveLength(jobs);
      for (const execArgv of seen) expect(execArgv.includes('--single-threaded'), `--jobs ${jobs} on ${cores} cores`).toBe(jobs >= cores);
    }
  });

  it('with --out-dir hands the sources out largest first (the combined stream in their order), and still reports and writes them in the order given', async () => {
    const jobs = join(dir, 'handed-out.txt');
    const big = join(dir, 'big.mft');
    // The built dump padded with unused records: larger than the shipped one, which is larger than the built one.
    writeFileSync(big, Buffer.concat([readFileSync(built), Buffer.alloc(statSync(SHIPPED).size, 0)]));
    const sources = [built, SHIPPED, big];
    const r = await runCli(['--json', 'mft', 'index', ...sources, '--out-dir', join(dir, 'out-order'), '--jobs', '1'], {
      env: { NO_COLOR: '1', NODE_OPTIONS: `--import ${LANE_PROBE}`, LANE_PROBE_JOBS: jobs },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const bySize = [...sources].sort((a, b) => statSync(b).size - statSync(a).size);
    expect(bySize).toEqual([big, SHIPPED, built]);
    expect(readFileSync(jobs, 'utf8').trim().split('\n')).toEqual(bySize);
    const summary = JSON.parse(r.stdout) as FleetJson;
    expect(summary.sources.map((s) => s.source)).toEqual(sources);
    expect(readFileSync(join(dir, 'out-order', 'small.mft.jsonl'), 'utf8')).toBe(await single(SHIPPED));
    // The combined stream copies each source's rows once the sources before it are done: they are handed out in order.
    const combinedJobs = join(dir, 'handed-out-combined.txt');
    const combined = await runCli(['mft', 'index', ...sources, '--jobs', '1'], {
      env: { NO_COLOR: '1', NODE_OPTIONS: `--import ${LANE_PROBE}`, LANE_PROBE_JOBS: combinedJobs },
    });
    expect(combined.exitCode, combined.stderr).toBe(0);
    expect(readFileSync(combinedJobs, 'utf8').trim().split('\n')).toEqual(sources);
  });

  it('counts the lanes\' own CPU time (their start included) in the run\'s cpuSeconds', async () => {
    const r = await diskkit(['--json', 'mft', 'index', SHIPPED, built, twin, '--out-dir', join(dir, 'out-cpu'), '--jobs', '2']);
    expect(r.exitCode, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as FleetJson & { cpuSeconds: number; sources: { summary?: { cpuSeconds: number } }[] };
    const pipelines = summary.sources.reduce((sum, s) => sum + s.summary!.cpuSeconds, 0);
    // Two lanes each started Node and loaded the indexer before their first source: work the sources' own figures leave out.
    expect(summary.cpuSeconds).toBeGreaterThan(pipelines);
  });

  it('Ctrl-C stops every pipeline, exits 130 and leaves no file in --out-dir (nor the combined --out)', async () => {
    for (const target of ['out-dir', 'out'] as const) {
      const outDir = mkdtempSync(join(dir, `interrupted-${target}-`));
      const marker = join(dir, `stall-${target}`);
      const args = target === 'out-dir' ? ['--out-dir', outDir] : ['--out', join(outDir, 'all.jsonl')];
      // Each pipeline's format worker is replaced by one that stalls (test/helpers/fake-format-worker.mjs): the run cannot finish by itself.
      const child = execa('node', [BIN, 'mft', 'index', SHIPPED, built, twin, '--jobs', '1', ...args], {
        reject: false,
        encoding: 'utf8',
        env: { NO_COLOR: '1', NODE_OPTIONS: `--import ${FAKE_WORKER}`, DISKKIT_FORMAT_WORKER_MIN_RECORDS: '0', DISKKIT_THREADS: '2', FAKE_FORMAT_WORKER: 'stall', FAKE_FORMAT_WORKER_MARKER: marker },
      });
      for (let waited = 0; !existsSync(marker) && waited < 20_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(existsSync(marker)).toBe(true);
      child.kill('SIGINT');
      const r = await child;
      expect(r.exitCode).toBe(130);
      expect(r.stderr).toMatch(/interrupted/);
      expect(readdirSync(outDir)).toEqual([]);
    }
  }, 60_000);
});

describe('mft bench with several sources', () => {
  it('gives each source its mode table, then all sources at once against the first alone', async () => {
    const r = await diskkit(['--json', 'mft', 'bench', SHIPPED, built, '--modes', 'streaming', '--jobs', '2']);
    expect(r.exitCode, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { perSource: { source: string; records: number; modes: { mode: string }[] }[]; aggregate: { sources: number; jobs: number; records: number; recordsPerSecond: number }; alone: { sources: number; records: number; recordsPerSecond: number }; scaling: number };
    expect(result.perSource.map((s) => [s.source, s.modes.map((m) => m.mode)])).toEqual([[SHIPPED, ['streaming']], [built, ['streaming']]]);
    expect(result.aggregate).toMatchObject({ sources: 2, jobs: 2, records: result.perSource[0]!.records + result.perSource[1]!.records });
    expect(result.alone).toMatchObject({ sources: 1, records: result.perSource[0]!.records });
    expect(result.scaling).toBeCloseTo(result.aggregate.recordsPerSecond / result.alone.recordsPerSecond, 6);
  }, 60_000);

  it('names the failing source when one of them cannot be indexed', async () => {
    const r = await diskkit(['mft', 'bench', SHIPPED, missing, '--modes', 'streaming']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(missing);
  });
});

describe('fleet pieces', () => {
  it('threadsPerJob shares the budget among the sources running at once, never below one', () => {
    expect(threadsPerJob(2, 2, 4)).toBe(1);
    expect(threadsPerJob(2, 1, 4)).toBe(2);
    expect(threadsPerJob(8, 4, 2)).toBe(4);
    expect(threadsPerJob(2, 8, 8)).toBe(1);
  });

  it('largestFirst orders positions by size, largest first, ties in the given order', () => {
    expect(largestFirst([10, 30, 20, 30, 0])).toEqual([1, 3, 2, 0, 4]);
    expect(largestFirst([])).toEqual([]);
  });

  it('runSources hands sources out in the order given, one queue for all lanes, and keeps outcomes at their positions', async () => {
    const started: string[] = [];
    const outcomes = await runSources(['a', 'b', 'c', 'd'], { jobs: 1, order: [2, 0, 3, 1] }, async (source, position) => {
      started.push(source);
      if (source === 'd') throw new Error('d failed');
      return position * 10;
    });
    expect(started).toEqual(['c', 'a', 'd', 'b']);
    expect(outcomes).toEqual([
      { source: 'a', ok: true, value: 0 },
      { source: 'b', ok: true, value: 10 },
      { source: 'c', ok: true, value: 20 },
      { source: 'd', ok: false, error: { code: 'E_IO', message: 'd failed', context: {} } },
    ]);
    // Two lanes: a lane that finishes takes the next source in the queue, whichever lane it is.
    const lanes: [string, number][] = [];
    const release: Record<string, () => void> = {};
    const run = runSources(['a', 'b', 'c'], { jobs: 2, order: [0, 1, 2] }, (source, _position, lane) => {
      lanes.push([source, lane]);
      return new Promise<number>((resolve) => (release[source] = () => resolve(0)));
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(lanes).toEqual([['a', 0], ['b', 1]]);
    release.b!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(lanes).toEqual([['a', 0], ['b', 1], ['c', 1]]);
    release.a!();
    release.c!();
    await run;
  });

  it('outputNamesFor keeps base names, numbers collisions (case-insensitively) and defuses odd names', () => {
    expect(outputNamesFor(['/a/C.img', '/b/C.img', '/c/c.IMG', '/d/..', 'e/x\ny'], 'parquet').map((n) => [n.file, n.renamed])).toEqual([
      ['C.img.parquet', false],
      ['C.img-2.parquet', true],
      ['c.IMG-3.parquet', true],
      ['source.parquet', false],
      ['x_y.parquet', false],
    ]);
  });

  it('prefixRows gives the same bytes however the rows are cut into chunks', () => {
    const csv = Buffer.from('record,path\n1,"a\nb"\n2,"x,""y"""\n3,plain\n');
    const jsonl = Buffer.from('{"a":1}\n{"b":"x\\ny"}\n');
    const body = Buffer.from('0|/a|1-1|r|0|0|1|0|0|0|0\n0|/b|2-1|r|0|0|1|0|0|0|0\n');
    const run = (format: 'csv' | 'jsonl' | 'bodyfile', bytes: Buffer, cut: number): string => {
      const p = prefixRows(format, 'S,1');
      const parts: Uint8Array[] = [];
      for (let at = 0; at < bytes.length; at += cut) parts.push(...p.push(bytes.subarray(at, at + cut)));
      return Buffer.concat(parts).toString();
    };
    for (const cut of [1, 2, 3, 7, 1000]) {
      expect(run('csv', csv, cut)).toBe('source,record,path\n"S,1",1,"a\nb"\n"S,1",2,"x,""y"""\n"S,1",3,plain\n');
      expect(run('jsonl', jsonl, cut)).toBe('{"source":"S,1","a":1}\n{"source":"S,1","b":"x\\ny"}\n');
      expect(run('bodyfile', body, cut)).toBe('0|S,1:/a|1-1|r|0|0|1|0|0|0|0\n0|S,1:/b|2-1|r|0|0|1|0|0|0|0\n');
    }
  });
});
