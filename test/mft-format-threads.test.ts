/**
 * Rows formatted on two threads (src/engine/ntfs/format-parallel.ts: used when rows
 * go to a file or a device and the index is large) must be byte-identical to one
 * thread's, and every way the second thread can fail must end the run cleanly: a
 * DiskkitError on stderr with its exit code, no partial --out file, no live worker.
 *
 * The two-thread path normally starts at 200k records; DISKKIT_FORMAT_WORKER_MIN_RECORDS=0
 * (a knob for tests) sends the small fixtures through it. A failing or stalling worker
 * is swapped in by preloading test/helpers/fake-format-worker.mjs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { BIN, diskkit } from './helpers/cli.js';
import { requireTools } from './helpers/oracle.js';
import { buildDump, buildRecord, dirRecord, fileRecord, fn, residentData, si } from './helpers/mft-builder.js';
import { MemoryBlockSource } from '../src/io/block-source.js';
import { indexMftSource } from '../src/engine/ntfs/open-mft.js';
import { writeRows, type OutputFormat, type RowFormatter } from '../src/engine/ntfs/format-rows.js';
import { jsonlFormatter } from '../src/engine/ntfs/format-jsonl.js';
import { csvFormatter } from '../src/engine/ntfs/format-csv.js';
import { bodyfileFormatter } from '../src/engine/ntfs/format-bodyfile.js';
import { startFormatWorker, writeRowsToFd, type FormatWorker } from '../src/engine/ntfs/format-parallel.js';
import type { RowOptions } from '../src/engine/ntfs/mft-index.js';

const SHIPPED = fileURLToPath(new URL('../fixtures/ntfs/small.mft', import.meta.url));
const FIXTURE_SCRIPT = fileURLToPath(new URL('../fixtures/make-ntfs-fixtures.sh', import.meta.url));
const FAKE_WORKER = fileURLToPath(new URL('./helpers/fake-format-worker.mjs', import.meta.url));
const TWO_THREADS = { DISKKIT_FORMAT_WORKER_MIN_RECORDS: '0' };
const FORMATTERS: Record<OutputFormat, RowFormatter> = { jsonl: jsonlFormatter, csv: csvFormatter, bodyfile: bodyfileFormatter };
const ntfsTools = requireTools('mkntfs', 'ntfs-3g', 'icat');

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'diskkit-format-threads-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs the CLI with stdout redirected to `file` as a shell's `> FILE` does (the
 * descriptor itself; execa's `{file}` would put a socket in between); returns the
 * result and the file's bytes.
 */
async function toFile(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = [], file = join(mkdtempSync(join(dir, 'stdout-')), 'rows')) {
  const fd = openSync(file, 'w');
  try {
    const r = await execa('node', [...nodeArgs, BIN, ...args], { reject: false, encoding: 'utf8', stdout: fd, env: { NO_COLOR: '1', ...env }, timeout: 20_000 });
    return { ...r, bytes: file === '/dev/full' ? Buffer.alloc(0) : readFileSync(file) };
  } finally {
    closeSync(fd);
  }
}

/** The rows through a pipe: always one thread (pipes are written asynchronously). */
async function piped(args: string[]): Promise<Buffer> {
  const r = await execa('node', [BIN, ...args], { reject: false, encoding: 'buffer', stripFinalNewline: false, env: { NO_COLOR: '1', ...TWO_THREADS } });
  expect(r.exitCode).toBe(0);
  return Buffer.from(r.stdout);
}

/** No stack trace: one `diskkit: ...` line. */
function expectCleanError(stderr: string, message: RegExp): void {
  expect(stderr).toMatch(/^diskkit: /);
  expect(stderr).toMatch(message);
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stderr.trim().split('\n')).toHaveLength(1);
}

describe('two-thread row formatting, engine', () => {
  /**
   * A synthetic MFT: 40 directories nested in one branch and two in a parent loop,
   * files spread over them in record order (so blocks split directories), deleted
   * files, named streams, hard links and files whose parent reference is stale.
   */
  async function syntheticIndex(share: boolean) {
    const records = new Map<number, Uint8Array>();
    let next = 16;
    const dirs = [5];
    for (let d = 0; d < 40; d++) {
      records.set(next, dirRecord(`level-${d}-${'x'.repeat(d % 7)}`, dirs[dirs.length - 1]!));
      dirs.push(next++);
    }
    // Two directories whose parents point at each other (a loop, cut into /$Orphan when the index is built)
    const loopA = next++;
    const loopB = next++;
    records.set(loopA, dirRecord('loop-a', loopB));
    records.set(loopB, dirRecord('loop-b', loopA));
    dirs.push(loopA, loopB);
    for (let i = 0; i < 2400; i++) {
      const parent = dirs[(i * 7) % dirs.length]!;
      const r = next++;
      if (i % 50 === 7) records.set(r, fileRecord(`gone-${i}.tmp`, parent, { inUse: false }));
      else if (i % 60 === 3) records.set(r, buildRecord({ attributes: [si(), fn(parent, `ads-${i}.txt`), residentData(10), residentData(i % 300, `stream-${i}`)] }));
      else if (i % 70 === 5) records.set(r, buildRecord({ links: 2, attributes: [si(), fn(parent, `linked-${i}`), fn(5, `link-in-root-${i}`), residentData(4)] }));
      else if (i % 90 === 11) records.set(r, fileRecord(`stale-parent-${i}`, parent, { parentSequence: 9 }));
      else records.set(r, fileRecord(`file-${i}-\u00e9\u{1f600}.dat`, parent, { size: i % 500 }));
    }
    const { index } = await indexMftSource(new MemoryBlockSource(buildDump(records, next)), { shareIndex: share });
    return index;
  }

  async function oneThread(index: Awaited<ReturnType<typeof syntheticIndex>>, format: OutputFormat, options: RowOptions) {
    const parts: Buffer[] = [];
    const totals = await writeRows(index, options, FORMATTERS[format], (b) => void parts.push(Buffer.from(b)));
    return { bytes: Buffer.concat(parts), totals };
  }

  async function twoThreads(index: Awaited<ReturnType<typeof syntheticIndex>>, format: OutputFormat, options: RowOptions, parallel: { signal?: AbortSignal; alternateBlocks?: boolean } = {}) {
    const path = join(mkdtempSync(join(dir, 'engine-')), `rows.${format}`);
    const fd = openSync(path, 'w');
    const started = startFormatWorker(format);
    let exited = false;
    started.worker.once('exit', () => (exited = true));
    try {
      const result = await writeRowsToFd(index, options, FORMATTERS[format], { fd, name: path, action: 'write' }, started, { minRecords: 0, ...parallel });
      return { ...result, bytes: readFileSync(path), exited };
    } catch (error) {
      return { error, exited, bytes: readFileSync(path) };
    } finally {
      closeSync(fd);
    }
  }

  it.each([
    ['jsonl', {}],
    ['jsonl', { deleted: true, streams: true }],
    ['csv', { deleted: true, streams: true }],
    ['bodyfile', { deleted: true }],
  ] as [OutputFormat, RowOptions][])('%s %j, blocks alternating between the threads: the same bytes and totals as one thread, and the worker has exited', async (format, options) => {
    const index = await syntheticIndex(true);
    const expected = await oneThread(index, format, options);
    expect(expected.totals.rows).toBeGreaterThan(2400);
    expect(expected.totals.orphans).toBeGreaterThan(20);
    const got = await twoThreads(index, format, options, { alternateBlocks: true });
    expect(got.threads).toBe(2);
    expect(got.bytes.equals(expected.bytes)).toBe(true);
    expect(got.totals).toEqual(expected.totals);
    expect(got.exited).toBe(true);
  });

  it('blocks claimed from the shared counter (whichever thread is free): the same bytes as one thread', async () => {
    const index = await syntheticIndex(true);
    const expected = await oneThread(index, 'jsonl', { deleted: true, streams: true });
    const got = await twoThreads(index, 'jsonl', { deleted: true, streams: true });
    expect(got.threads).toBe(2);
    expect(got.bytes.equals(expected.bytes)).toBe(true);
    expect(got.totals).toEqual(expected.totals);
  });

  it('an index not in shared memory is written on one thread, and the unused worker is terminated', async () => {
    const index = await syntheticIndex(false);
    const expected = await oneThread(index, 'jsonl', {});
    const got = await twoThreads(index, 'jsonl', {});
    expect(got.threads).toBe(1);
    expect(got.bytes.equals(expected.bytes)).toBe(true);
    expect(got.exited).toBe(true);
  });

  it('an aborted signal stops with E_CANCELLED before any row, and the worker has exited', async () => {
    const index = await syntheticIndex(true);
    const controller = new AbortController();
    controller.abort();
    const got = await twoThreads(index, 'jsonl', {}, { signal: controller.signal });
    expect(got.error).toMatchObject({ code: 'E_CANCELLED' });
    expect(got.bytes.length).toBe(0);
    expect(got.exited).toBe(true);
  });
});

describe('two-thread row formatting, CLI', () => {
  it.each(['jsonl', 'csv', 'bodyfile'])('%s to a file equals the piped one-thread output (shipped $MFT dump, --deleted --streams)', async (format) => {
    const args = ['mft', 'index', SHIPPED, '--format', format, '--deleted', '--streams'];
    const r = await toFile(args, TWO_THREADS);
    expect(r.exitCode, r.stderr).toBe(0);
    const expected = await piped(args);
    expect(expected.length).toBeGreaterThan(10_000);
    expect(r.bytes.equals(expected)).toBe(true);
  });

  it('--out under --json reports formatThreads 2 (1 at the default threshold) and holds the same rows', async () => {
    const out = join(dir, 'rows.jsonl');
    const two = await diskkit(['--json', 'mft', 'index', SHIPPED, '--out', out], { env: TWO_THREADS });
    expect(two.exitCode, two.stderr).toBe(0);
    expect(JSON.parse(two.stdout).formatThreads).toBe(2);
    const expected = await piped(['mft', 'index', SHIPPED]);
    expect(readFileSync(out).equals(expected)).toBe(true);
    const one = await diskkit(['--json', 'mft', 'index', SHIPPED, '--out', out]);
    expect(JSON.parse(one.stdout).formatThreads).toBe(1);
    expect(readFileSync(out).equals(expected)).toBe(true);
  });

  it.runIf(ntfsTools)('on volumes made by mkntfs + ntfs-3g (1 KiB and 4 KiB records), every format to a file equals the piped output', async () => {
    const fixtures = mkdtempSync(join(dir, 'ntfs-'));
    execFileSync(FIXTURE_SCRIPT, [fixtures, 'all'], { stdio: 'ignore' });
    for (const image of ['small.ntfs', '4k.ntfs']) {
      for (const format of ['jsonl', 'csv', 'bodyfile']) {
        const args = ['mft', 'index', join(fixtures, image), '--format', format, '--deleted', '--streams'];
        const r = await toFile(args, TWO_THREADS);
        expect(r.exitCode, r.stderr).toBe(0);
        expect(r.bytes.equals(await piped(args)), `${image} ${format}`).toBe(true);
      }
    }
  }, 60_000);

  it.each([
    ['throw-on-load', /format worker failed: injected load failure/],
    ['throw-on-setup', /format worker failed: injected setup failure/],
    ['exit-on-setup', /format worker failed: it stopped unexpectedly \(exit code 7\)/],
  ])('a worker that fails (%s) ends the run with E_WORKER, exit 1, and leaves no --out file', async (mode, message) => {
    const outDir = mkdtempSync(join(dir, 'failing-'));
    const r = await execa('node', ['--import', FAKE_WORKER, BIN, 'mft', 'index', SHIPPED, '--out', join(outDir, 'rows.jsonl')], {
      reject: false,
      encoding: 'utf8',
      env: { NO_COLOR: '1', ...TWO_THREADS, FAKE_FORMAT_WORKER: mode },
    });
    expect(r.exitCode).toBe(1);
    expectCleanError(r.stderr, message);
    expect(readdirSync(outDir)).toEqual([]);
    const json = await execa('node', ['--import', FAKE_WORKER, BIN, '--json', 'mft', 'index', SHIPPED, '--out', join(outDir, 'rows.jsonl')], {
      reject: false,
      encoding: 'utf8',
      env: { NO_COLOR: '1', ...TWO_THREADS, FAKE_FORMAT_WORKER: mode },
    });
    expect(json.exitCode).toBe(1);
    // the one document on stdout is the error document
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'E_WORKER' }, exitCode: 1 });
    expect(readdirSync(outDir)).toEqual([]);
  });

  it('the same failure on stdout redirected to a file is E_WORKER with exit 1 too', async () => {
    const r = await toFile(['mft', 'index', SHIPPED], { ...TWO_THREADS, FAKE_FORMAT_WORKER: 'throw-on-setup' }, ['--import', FAKE_WORKER]);
    expect(r.exitCode).toBe(1);
    expectCleanError(r.stderr, /format worker failed: injected setup failure/);
  });

  it.each(['jsonl', 'csv'])('%s to /dev/full fails with a clear ENOSPC error and exit 1, not a hang', async (format) => {
    const r = await toFile(['mft', 'index', SHIPPED, '--format', format], TWO_THREADS, [], '/dev/full');
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(1);
    expectCleanError(r.stderr, /small\.mft: cannot write: ENOSPC/);
  });

  it('Ctrl-C while the main thread waits for a stalled worker exits 130 and leaves no --out file', async () => {
    const outDir = mkdtempSync(join(dir, 'interrupted-'));
    const marker = join(dir, 'stall-marker');
    const child = execa('node', ['--import', FAKE_WORKER, BIN, 'mft', 'index', SHIPPED, '--out', join(outDir, 'rows.jsonl')], {
      reject: false,
      encoding: 'utf8',
      env: { NO_COLOR: '1', ...TWO_THREADS, FAKE_FORMAT_WORKER: 'stall', FAKE_FORMAT_WORKER_MARKER: marker },
    });
    // The worker holds block 0 unwritten: the main thread formats its blocks, then can only wait.
    for (let waited = 0; !existsSync(marker) && waited < 15_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(existsSync(marker)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(130);
    expectCleanError(r.stderr, /interrupted/);
    expect(readdirSync(outDir)).toEqual([]);
  }, 30_000);
});
