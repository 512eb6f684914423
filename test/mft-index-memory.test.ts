/**
 * A fleet lane's next source takes over the last source's index arrays
 * (engine/ntfs/index-memory.ts). The rows must be exactly those of a run in fresh
 * memory whatever came before — a larger MFT, a smaller one, another read mode, a
 * volume after a dump — and the arrays must actually be taken over when they fit
 * (zero-filled) and left alone when they do not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IndexMemory, runMftIndex, type MftIndexRequest } from '../src/engine/ntfs/index.js';
import { allocateRecordTable } from '../src/engine/ntfs/record-table.js';
import { NameList } from '../src/engine/ntfs/name-list.js';
import { NameGroupBuilder } from '../src/engine/ntfs/name-groups.js';
import { buildDump, dirRecord, fileRecord } from './helpers/mft-builder.js';

const SHIPPED = fileURLToPath(new URL('../fixtures/ntfs/small.mft', import.meta.url));
const DEMO_GZ = fileURLToPath(new URL('../fixtures/ntfs/demo.ntfs.gz', import.meta.url));
let dir = '';
let built = '';
let demo = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'diskkit-index-memory-'));
  // Small and different from the shipped dump: whatever that one left in the arrays would show.
  const records = new Map<number, Uint8Array>([[16, dirRecord('docs', 5)], [17, fileRecord('notes.txt', 16, { size: 10 })], [18, fileRecord('gone.txt', 16, { inUse: false })]]);
  built = join(dir, 'built.mft');
  writeFileSync(built, buildDump(records, 40));
  demo = join(dir, 'demo.ntfs');
  writeFileSync(demo, gunzipSync(readFileSync(DEMO_GZ)));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const request = (out: string, mode: string, extra: Partial<MftIndexRequest> = {}): MftIndexRequest => ({
  format: 'jsonl', out, streams: true, deleted: true, strict: false, skipUnused: false, mode, chunkSize: undefined, workers: 2, partition: undefined, ...extra,
});

let outputs = 0;
async function rowsOf(source: string, mode: string, memory?: IndexMemory): Promise<string> {
  const out = join(dir, `out-${outputs++}.jsonl`);
  await runMftIndex(source, request(out, mode, { memory }));
  return readFileSync(out, 'utf8');
}

describe('index arrays taken over from the previous source', () => {
  it('give the rows of a run in fresh memory, whatever source and mode came before', async () => {
    const plan: [string, string][] = [
      [SHIPPED, 'streaming'], [built, 'streaming'], [SHIPPED, 'prefetch'], [demo, 'streaming'],
      [SHIPPED, 'parallel'], [built, 'parallel'], [SHIPPED, 'streaming'], [built, 'prefetch'],
    ];
    const fresh = new Map<string, string>();
    for (const source of [SHIPPED, built, demo]) fresh.set(source, await rowsOf(source, 'streaming'));
    // The three sources give different rows (else the comparison below could not tell them apart).
    expect(new Set(fresh.values()).size).toBe(3);
    const memory = new IndexMemory();
    for (const [source, mode] of plan) expect(await rowsOf(source, mode, memory), `${source} in ${mode} mode`).toBe(fresh.get(source));
  });

  it('keeps nothing from a run that failed after its scan took the arrays', async () => {
    // A garbage record: --strict fails the run once the index is built.
    const flawed = join(dir, 'flawed.mft');
    writeFileSync(flawed, buildDump(new Map([[16, new Uint8Array(1024).fill(0x5a)]]), 20));
    const memory = new IndexMemory();
    await rowsOf(SHIPPED, 'streaming', memory);
    await expect(runMftIndex(flawed, request(join(dir, 'never.jsonl'), 'streaming', { memory, strict: true }))).rejects.toThrow(/--strict/);
    expect(memory.take()).toBeNull();
    // A run that ends well leaves its arrays.
    await rowsOf(built, 'streaming', memory);
    expect(memory.take()).not.toBeNull();
  });
});

describe('the pieces', () => {
  it('a record table takes over a large enough buffer of its kind, zero-filled, and allocates otherwise', () => {
    const first = allocateRecordTable(100);
    first.status.fill(2);
    first.siTimes.fill(0xffffffff);
    first.size.fill(12345);
    const second = allocateRecordTable(60, false, first.buffer);
    expect(second.buffer).toBe(first.buffer);
    expect(second.count).toBe(60);
    for (const column of [second.status, second.siTimes, second.size]) expect([...column].every((v) => v === 0)).toBe(true);
    expect(allocateRecordTable(101, false, first.buffer).buffer).not.toBe(first.buffer);
    expect(allocateRecordTable(60, true, first.buffer).buffer).not.toBe(first.buffer);
    expect(allocateRecordTable(60, true, first.buffer).buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it('a name list takes over the buffers of one at least as large, with what was written zeroed', () => {
    const limits = { recordCount: 50, recordSize: 1024, expectEntries: 80, expectChars: 1000 };
    const first = NameList.create(limits);
    for (let r = 0; r < 50; r++) {
      first.beginRecord();
      const i = first.reserve(3);
      first.owner[i] = r;
      first.parent[i] = 7;
      first.times.fill(9, i * 8, i * 8 + 8);
      first.chars.fill(0x41, first.charStart[i]!, first.charStart[i]! + 3);
    }
    const kept = first.storage();
    const second = NameList.create({ ...limits, recordCount: 20 }, kept);
    expect(second.share.entryBuffers).toEqual(kept.entryBuffers);
    expect(second.share.entryBuffers[0]).toBe(kept.entryBuffers[0]);
    expect(second.share.chars).toBe(kept.chars);
    expect(second.length).toBe(0);
    for (const column of [second.owner, second.parent, second.times, second.chars]) expect([...column].every((v) => v === 0)).toBe(true);
    // A list that may grow further than those buffers gets its own.
    const larger = NameList.create({ ...limits, recordCount: 5000 }, second.storage());
    expect(larger.share.chars).not.toBe(kept.chars);
  });

  it('a grouping takes over counts and order arrays that hold enough, zeroed', () => {
    const list = NameList.create({ recordCount: 10, recordSize: 1024 });
    const groups = new NameGroupBuilder(list, 10, 2048);
    const old = groups.finish();
    old.start.fill(5);
    old.order.fill(3);
    const next = new NameGroupBuilder(list, 8, 1024, old).finish();
    expect(next.start.buffer).toBe(old.start.buffer);
    expect(next.order.buffer).toBe(old.order.buffer);
    expect([...next.start]).toEqual(new Array(9).fill(0));
    expect(new NameGroupBuilder(list, 20, 1024, old).finish().start.buffer).not.toBe(old.start.buffer);
  });
});
