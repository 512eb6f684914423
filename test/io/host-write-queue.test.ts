/**
 * The host-write queue on its own (cp out's writer, src/io/host-write-queue.ts): files
 * queued with or without the worker arrive whole with their times; a failure comes back
 * with the tag it was queued with; abort starts no further file and leaves none partial.
 * The expectation is what was queued (bytes made here, compared with what is on disk).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostWriteQueue } from '../../src/io/host-write-queue.js';

let work = '';
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'diskkit-host-write-'));
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** File i's bytes: its own length (0 to ~40 KB) and contents. */
function bytesOf(i: number): Buffer {
  const size = (i * 7919) % 40_000;
  const b = Buffer.alloc(size);
  for (let j = 0; j < size; j++) b[j] = (i + j * 31) & 0xff;
  return b;
}

async function queueFiles(queue: HostWriteQueue<number>, dir: string, count: number, beforeFile?: (i: number) => void): Promise<void> {
  for (let i = 0; i < count; i++) {
    beforeFile?.(i);
    const bytes = bytesOf(i);
    let view = queue.space(bytes.length);
    if (view === null) {
      await queue.room();
      view = queue.space(bytes.length)!;
    }
    view.set(bytes);
    queue.add(join(dir, `f${i}`), bytes.length, 1_600_000_000_000 + i * 1000, 1_500_000_000_000 + i * 1000, i);
  }
}

// 'late': the worker is started once 600 files are queued, so batches posted before it is
// ready (written by this thread, or handed over part-written when it says it is ready) and
// batches it takes from the start both occur in one run.
describe.each([true, false, 'late'] as const)('host-write queue (worker: %s)', (withWorker) => {
  it('writes 1,500 files whole, with their times, and reports a refused one by its tag', async () => {
    const dir = join(work, `all-${withWorker}`);
    // Directories where files 700 and 1200 go: refused whoever writes them.
    mkdirSync(join(dir, 'f700'), { recursive: true });
    mkdirSync(join(dir, 'f1200'), { recursive: true });
    const failed: number[] = [];
    let written = 0;
    const queue = new HostWriteQueue<number>({ written: (n) => (written += n), failed: (tag) => failed.push(tag) });
    if (withWorker === true) {
      expect(queue.startWorker()).toBe(true);
      // Ready before the first file, so the worker takes batches from the start (a loaded machine starts a thread slowly).
      for (let waited = 0; !queue.workerReady && waited < 20_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
      expect(queue.workerReady).toBe(true);
    }
    await queueFiles(queue, dir, 1500, withWorker === 'late' ? (i) => i === 600 && expect(queue.startWorker()).toBe(true) : undefined);
    await queue.drain();
    queue.close();
    expect(failed.sort((a, b) => a - b)).toEqual([700, 1200]);
    expect(written).toBe(1498);
    // Nothing else in the directory: no stray or temporary file.
    expect(readdirSync(dir).length).toBe(1500);
    for (let i = 0; i < 1500; i++) {
      if (i === 700 || i === 1200) continue;
      const path = join(dir, `f${i}`);
      // Times before the read (reading may move the access time).
      const st = statSync(path);
      expect(st.mtimeMs).toBe(1_500_000_000_000 + i * 1000);
      expect(st.atimeMs).toBe(1_600_000_000_000 + i * 1000);
      expect(readFileSync(path).equals(bytesOf(i)), path).toBe(true);
    }
  });

  it('abort starts no further file, and every file it leaves is whole', async () => {
    const dir = join(work, `abort-${withWorker}`);
    mkdirSync(dir);
    const queue = new HostWriteQueue<number>({ written: () => {}, failed: () => {} });
    if (withWorker === true) queue.startWorker();
    await queueFiles(queue, dir, 800, withWorker === 'late' ? (i) => i === 300 && void queue.startWorker() : undefined);
    await queue.abort();
    queue.close();
    const names = readdirSync(dir);
    expect(names.length).toBeLessThanOrEqual(800);
    for (const name of names) expect(readFileSync(join(dir, name)).equals(bytesOf(Number(name.slice(1)))), name).toBe(true);
  });
});

describe('host-write queue start-up', () => {
  it('hears the worker say it is ready while the caller waits only in room(), as cp out does', async () => {
    const dir = join(work, 'ready');
    mkdirSync(dir);
    const queue = new HostWriteQueue<number>({ written: () => {}, failed: () => {} });
    expect(queue.startWorker()).toBe(true);
    const bytes = Buffer.alloc(3000, 1);
    // Files of 3,000 bytes never fill a batch exactly, so add() never posts: every batch is
    // posted from space(), and room() is the only place this loop gives the event loop a turn.
    const deadline = Date.now() + 30_000;
    for (let i = 0; !queue.workerReady && Date.now() < deadline; i++) {
      let view = queue.space(bytes.length);
      if (view === null) {
        await queue.room();
        view = queue.space(bytes.length)!;
      }
      view.set(bytes);
      queue.add(join(dir, `f${i % 2000}`), bytes.length, Number.NaN, Number.NaN, i);
    }
    const ready = queue.workerReady;
    await queue.drain();
    queue.close();
    expect(ready).toBe(true);
    for (const name of readdirSync(dir)) expect(readFileSync(join(dir, name)).equals(bytes), name).toBe(true);
  });
});
