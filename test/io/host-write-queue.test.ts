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

async function queueFiles(queue: HostWriteQueue<number>, dir: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
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

describe.each([true, false])('host-write queue (worker: %s)', (withWorker) => {
  it('writes 1,500 files whole, with their times, and reports a refused one by its tag', async () => {
    const dir = join(work, `all-${withWorker}`);
    mkdirSync(join(dir, 'f700'), { recursive: true }); // a directory where file 700 goes
    const failed: number[] = [];
    let written = 0;
    const queue = new HostWriteQueue<number>({ written: (n) => (written += n), failed: (tag) => failed.push(tag) });
    if (withWorker) expect(queue.startWorker()).toBe(true);
    await queueFiles(queue, dir, 1500);
    await queue.drain();
    queue.close();
    expect(failed).toEqual([700]);
    expect(written).toBe(1499);
    for (let i = 0; i < 1500; i++) {
      if (i === 700) continue;
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
    if (withWorker) queue.startWorker();
    await queueFiles(queue, dir, 800);
    await queue.abort();
    queue.close();
    const names = readdirSync(dir);
    expect(names.length).toBeLessThanOrEqual(800);
    for (const name of names) expect(readFileSync(join(dir, name)).equals(bytesOf(Number(name.slice(1)))), name).toBe(true);
  });
});
