import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { execa } from 'execa';
import { BIN, diskkit } from '../helpers/cli.js';
import { requireTools } from '../helpers/oracle.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'diskkit-bench-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hex = (n: number) => n.toString(16).padStart(8, '0');

describe('diskkit bench', () => {
  it.each([
    [['--mode', 'bogus']],
    [['--chunk-size', '12Q']],
    [['--chunk-size', '0']],
    [['--runs', '0']],
    [['--workers', 'two']],
    [['--seconds', '-1']],
    [['--hash', 'md5']],
  ])('rejects bad option values with a usage error (%j)', async (args) => {
    writeFileSync(join(dir, 'x.bin'), Buffer.alloc(1000));
    const r = await diskkit(['bench', join(dir, 'x.bin'), ...args]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^diskkit: /);
  });

  it('a missing image is a runtime error naming the file', async () => {
    const r = await diskkit(['bench', join(dir, 'absent.img'), '--json']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('absent.img');
    // --json: the error document, and nothing else, on stdout
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'E_NOT_FOUND' }, exitCode: 1 });
  });

  it('on a plain file runs the sequential read per mode; --json is one document whose checksums equal zlib.crc32 of the file', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const file = join(dir, 'plain.bin');
    writeFileSync(file, data);
    const r = await diskkit(['bench', file, '--mode', 'all', '--runs', '2', '--chunk-size', '256K', '--workers', '2', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(Object.keys(report).sort()).toEqual(['conditions', 'format', 'image', 'note', 'process', 'workloads']);
    expect(report.format).toBe('raw');
    for (const key of ['cache', 'cacheAction', 'node', 'cpu', 'cores', 'uvThreadpoolSize', 'chunkSize', 'depth', 'workers', 'runs', 'modes']) expect(report.conditions).toHaveProperty(key);
    expect(report.conditions.chunkSize).toBe(262144);
    const seq = report.workloads.sequentialRead;
    expect(seq.byMode.map((m: { mode: string }) => m.mode)).toEqual(['streaming', 'prefetch', 'pipelined', 'parallel', 'mmap']);
    for (const m of seq.byMode) {
      expect(m.checksum).toBe(hex(crc32(data)));
      expect(m.rate.runs).toHaveLength(2);
      expect(m.stats.bytesRead).toBe(data.length);
      for (const k of ['p50', 'p95', 'p99']) expect(typeof m.latencyMs[k]).toBe('number');
      expect(m.stats.caches).toEqual({});
    }
    expect(seq.byMode.filter((m: { best: boolean }) => m.best)).toHaveLength(1);
    expect(seq.checksumsAgree).toBe(true);
    expect(report.workloads.randomRead.status).toBe('skipped');
    expect(report.process.peakRssMiB).toBeGreaterThan(0);
  });

  it('Ctrl-C (SIGINT) stops a parallel bench promptly with exit 130 and a clear message', async () => {
    const file = join(dir, 'interrupt.bin');
    writeFileSync(file, randomBytes(32 << 20));
    const child = execa('node', [BIN, 'bench', file, '--mode', 'parallel', '--workers', '2', '--hash', 'sha256', '--runs', '100', '--json'], { reject: false, encoding: 'utf8' });
    await new Promise((resolve) => setTimeout(resolve, 1200));
    child.kill('SIGINT');
    // 100 runs of SHA-256 over 32 MiB would take minutes: exiting with 130 before the
    // test's timeout shows the interrupt was obeyed
    const r = await child;
    expect(r.exitCode).toBe(130);
    // --json: the one document on stdout is the error document (every failing --json command prints one).
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'E_CANCELLED' }, exitCode: 130 });
    expect(r.stderr).toMatch(/interrupted/);
  }, 20_000);

  it('prints a plain table when stdout is not a terminal, best mode marked', async () => {
    const file = join(dir, 'plain2.bin');
    writeFileSync(file, randomBytes(1 << 20));
    const r = await diskkit(['bench', file, '--mode', 'all', '--runs', '1', '--workers', '1']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/sequential read/);
    expect(r.stdout.split('\n').filter((l) => /^\s+\* /.test(l))).toHaveLength(1);
    expect(r.stdout).toMatch(/checksums agree/);
    expect(r.stdout).toMatch(/UV_THREADPOOL_SIZE/);
  });

  it.runIf(requireTools('mkfs.fat', 'mcopy'))('on a FAT image made by mkfs.fat + mcopy, every mode reads the same bytes the oracle stored', async () => {
    const img = join(dir, 'fat.img');
    execFileSync('mkfs.fat', ['-C', '-n', 'BENCH', img, '8192'], { stdio: 'ignore' });
    const big = randomBytes(2 * 1024 * 1024 + 123);
    writeFileSync(join(dir, 'big.bin'), big);
    writeFileSync(join(dir, 'small.txt'), 'hello\n');
    execFileSync('mcopy', ['-i', img, join(dir, 'big.bin'), join(dir, 'small.txt'), '::'], { stdio: 'ignore' });
    const before = readFileSync(img);
    const r = await diskkit(['bench', img, '--mode', 'all', '--runs', '1', '--seconds', '0.5', '--workers', '2', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    const seq = report.workloads.sequentialRead;
    expect(seq.checksumsAgree).toBe(true);
    for (const key of ['sequentialRead', 'randomRead', 'metadataWalk', 'fatCache', 'allocation']) expect(report.workloads).toHaveProperty(key);
    expect(report.format).toBe('fat');
    // the sequential workload is the largest file, as mcopy stored it
    for (const row of seq.byMode) expect(row.checksum).toBe(hex(crc32(big)));
    expect(seq.what).toContain('/big.bin');
    expect(report.workloads.metadataWalk.entries).toBe(2);
    const random = report.workloads.randomRead;
    expect(random.checksumsAgree).toBe(true);
    expect(random.byMode.map((m: { stats: { bytesRead: number } }) => m.stats.bytesRead % 4096)).toEqual([0, 0, 0, 0, 0]);
    // allocation runs in memory on the free-cluster bitmap; the image has 2 files' worth of clusters in use
    const alloc = report.workloads.allocation;
    expect(alloc.status).toBe('ran');
    expect(alloc.allocations).toBeGreaterThan(0);
    expect(alloc.fillLevelPct).toBeGreaterThan(0);
    expect(alloc.fillLevelPct).toBeLessThan(100);
    // the FAT and directory caches report their counters
    expect(report.workloads.fatCache.status).toBe('ran');
    expect(report.workloads.fatCache.caches.fat.hits + report.workloads.fatCache.caches.fat.misses).toBeGreaterThan(0);
    // the user's image is never written
    expect(readFileSync(img).equals(before)).toBe(true);
  });
});
