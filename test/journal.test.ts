/**
 * The rollback journal on its own: the file's structures (header and record round
 * trips, checksums that catch torn or foreign bytes), the saved-sector set, and the
 * transaction on a plain file — old bytes come back after a rollback, after a crash
 * (recovery from the file alone), never from a torn record; commit leaves the new
 * bytes and no journal; a live writer's journal is not touched; a read-only image is
 * reported, not written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeJournalHeader,
  decodeRecordHeader,
  encodeJournalHeader,
  encodeJournalRecord,
  HEADER_SIZE,
  JournalFlag,
  journalPathFor,
  recordIsIntact,
  recoverHotJournal,
  RECORD_HEADER_SIZE,
  RollbackJournal,
} from '../src/engine/journal/index.js';
import { SectorSet } from '../src/engine/journal/sector-set.js';
import { FileBlockSource } from '../src/io/block-source.js';
import { DiskkitError } from '../src/engine/errors.js';

let work = '';
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dk-journal-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

let n = 0;
/** A file of `size` bytes where byte i is (i * 7 + seed) & 0xff. */
function patterned(size: number, seed = 1): { path: string; bytes: Buffer } {
  const path = join(work, `img${n++}.bin`);
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + seed) & 0xff;
  writeFileSync(path, bytes);
  return { path, bytes };
}

/** A source on `path` whose writes go through a (non-fsyncing) journal, as openImage sets it up. */
function journaled(path: string): { source: FileBlockSource; journal: RollbackJournal } {
  const source = FileBlockSource.open(path, { writable: true });
  const journal = new RollbackJournal(path, { sync: false });
  source.writeGuard = journal;
  return { source, journal };
}

const header = {
  flags: 0,
  imageSize: 1474560,
  volumeOffset: 1048576,
  volumeSize: 425984,
  nonce: 0xdeadbeef,
  pid: 4242,
  bootId: Uint8Array.from({ length: 16 }, (_, i) => i * 3),
  name: 'disk ümlaut.img',
};

describe('journal file structures', () => {
  it('a header round-trips, and any flipped byte is caught by the checksum', () => {
    const bytes = encodeJournalHeader(header);
    expect(bytes.length).toBe(HEADER_SIZE);
    expect(decodeJournalHeader(bytes)).toEqual(header);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: HEADER_SIZE - 1 }), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const copy = Uint8Array.from(bytes);
        copy[at]! ^= xor;
        expect(() => decodeJournalHeader(copy)).toThrow(DiskkitError);
      }),
      { numRuns: 300 },
    );
  });

  it('a record carries position and bytes; its checksum depends on the journal nonce', () => {
    fc.assert(
      fc.property(fc.nat(2 ** 40), fc.uint8Array({ minLength: 1, maxLength: 2048 }), fc.nat(0xffffffff), (position, data, nonce) => {
        const rec = encodeJournalRecord(nonce, position, data);
        const head = rec.subarray(0, RECORD_HEADER_SIZE);
        expect(decodeRecordHeader(head)).toMatchObject({ position, length: data.length });
        expect(recordIsIntact(nonce, head, rec.subarray(RECORD_HEADER_SIZE))).toBe(true);
        // A record left by an earlier journal (another nonce) or torn short is not applied.
        expect(recordIsIntact((nonce + 1) >>> 0, head, rec.subarray(RECORD_HEADER_SIZE))).toBe(false);
        expect(recordIsIntact(nonce, head, rec.subarray(RECORD_HEADER_SIZE, rec.length - 1))).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('the sector set answers membership like a Set, across chunk boundaries', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(200_000), fc.nat(40)), { maxLength: 30 }), fc.array(fc.nat(200_100), { maxLength: 100 }), (ranges, probes) => {
        const set = new SectorSet();
        const model = new Set<number>();
        for (const [start, len] of ranges) {
          set.addRange(start, start + len);
          for (let s = start; s <= start + len; s++) model.add(s);
        }
        for (const p of [...probes, ...model]) expect(set.has(p)).toBe(model.has(p));
      }),
      { numRuns: 100 },
    );
  });
});

describe('a journaled transaction on a file', () => {
  it('rollback puts back exactly the old bytes of every range written, and truncates growth', () => {
    const { path, bytes } = patterned(64 * 1024);
    const { source, journal } = journaled(path);
    source.writeAt(Buffer.alloc(10, 0xaa), 0, 10, 1000); // inside one sector
    source.writeAt(Buffer.alloc(3000, 0xbb), 0, 3000, 511); // across sector edges
    source.writeAt(Buffer.alloc(100, 0xcc), 0, 100, 1000); // again: the first old bytes must win
    source.writeAt(Buffer.alloc(700, 0xdd), 0, 700, 64 * 1024 - 200); // past the end: the file grows
    expect(existsSync(journalPathFor(path))).toBe(true);
    expect(statSync(path).size).toBe(64 * 1024 + 500);
    journal.rollback();
    expect(readFileSync(path).equals(bytes)).toBe(true);
    expect(existsSync(journalPathFor(path))).toBe(false);
    // The writer's view of the image is stale now: further writes are refused.
    expect(() => source.writeAt(Buffer.alloc(1), 0, 1, 0)).toThrow(/rolled back/);
    source.close();
  });

  it('commit keeps the new bytes and deletes the journal; ranges marked unsaved are not saved', () => {
    const { path } = patterned(32 * 1024);
    const { source, journal } = journaled(path);
    journal.setUnsavedRanges((position) => position >= 16 * 1024);
    source.writeAt(Buffer.alloc(4096, 0x11), 0, 4096, 20 * 1024);
    source.writeAt(Buffer.alloc(512, 0x22), 0, 512, 0);
    // Header plus one 512-byte record: the unsaved range took no room.
    expect(statSync(journalPathFor(path)).size).toBe(HEADER_SIZE + RECORD_HEADER_SIZE + 512);
    journal.commit();
    expect(existsSync(journalPathFor(path))).toBe(false);
    const after = readFileSync(path);
    expect(after.subarray(0, 512).every((b) => b === 0x22)).toBe(true);
    expect(after.subarray(20 * 1024, 24 * 1024).every((b) => b === 0x11)).toBe(true);
    source.close();
  });

  it('closing a source with uncommitted writes rolls them back', () => {
    const { path, bytes } = patterned(8192);
    const { source } = journaled(path);
    source.writeAt(Buffer.alloc(2048, 0xee), 0, 2048, 1024);
    source.close();
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });
});

describe('recovery from a journal left by a killed process', () => {
  /** Writes through a journal in a child process that is then SIGKILLed: the hot journal is real. */
  async function killedWriter(path: string, writes: [number, number, number][]): Promise<void> {
    const code = `
      const { FileBlockSource } = await import(${JSON.stringify(new URL('../dist/io/block-source.js', import.meta.url).href)});
      const { RollbackJournal } = await import(${JSON.stringify(new URL('../dist/engine/journal/index.js', import.meta.url).href)});
      const source = FileBlockSource.open(${JSON.stringify(path)}, { writable: true });
      source.writeGuard = new RollbackJournal(${JSON.stringify(path)}, { sync: false });
      for (const [at, len, value] of ${JSON.stringify(writes)}) source.writeAt(Buffer.alloc(len, value), 0, len, at);
      process.stdout.write('written\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
  }

  it('the next open rolls a hot journal back: old bytes, original size, no journal', async () => {
    const { path, bytes } = patterned(40 * 1024, 9);
    await killedWriter(path, [[0, 1024, 0x55], [30 * 1024, 20 * 1024, 0x66]]);
    expect(readFileSync(path).equals(bytes)).toBe(false);
    expect(existsSync(journalPathFor(path))).toBe(true);
    const r = recoverHotJournal(path);
    expect(r).toMatchObject({ action: 'rolled-back', records: 2 });
    expect(readFileSync(path).equals(bytes)).toBe(true);
    expect(existsSync(journalPathFor(path))).toBe(false);
  });

  it('a torn last record is not applied, the intact ones are', async () => {
    const { path, bytes } = patterned(16 * 1024, 3);
    await killedWriter(path, [[0, 512, 0x01], [4096, 512, 0x02]]);
    const journal = journalPathFor(path);
    // The crash hit while the second record was being appended: its image write never began.
    truncateSync(journal, statSync(journal).size - 100);
    const image = readFileSync(path);
    bytes.copy(image, 4096, 4096, 4096 + 512);
    writeFileSync(path, image);
    expect(recoverHotJournal(path)).toMatchObject({ action: 'rolled-back', records: 1 });
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('a committed journal is only deleted; a foreign file of that name is refused', () => {
    const { path, bytes } = patterned(4096);
    writeFileSync(journalPathFor(path), encodeJournalHeader({ ...header, flags: JournalFlag.COMMITTED, imageSize: 4096, pid: 0 }));
    expect(recoverHotJournal(path)).toMatchObject({ action: 'deleted-committed' });
    expect(readFileSync(path).equals(bytes)).toBe(true);
    writeFileSync(journalPathFor(path), 'not a journal at all, someone else wrote this'.repeat(20));
    expect(() => recoverHotJournal(path)).toThrow(/not a diskkit journal/);
    expect(existsSync(journalPathFor(path))).toBe(true);
    rmSync(journalPathFor(path));
  });

  it('a journal whose writer is still running is left alone (E_BUSY)', () => {
    const { path } = patterned(4096);
    // This test process is alive, but is not "us" for a journal naming its parent.
    writeFileSync(journalPathFor(path), encodeJournalHeader({ ...header, imageSize: 4096, pid: process.ppid, bootId: readBootId() }));
    expect(() => recoverHotJournal(path)).toThrow(expect.objectContaining({ code: 'E_BUSY' }));
    rmSync(journalPathFor(path));
  });

  it('a journal holding only its header (killed before the first save) is deleted, even beside a read-only image', () => {
    const { path, bytes } = patterned(4096, 6);
    writeFileSync(journalPathFor(path), encodeJournalHeader({ ...header, imageSize: 4096, pid: 0 }));
    chmodSync(path, 0o444);
    try {
      expect(recoverHotJournal(path)).toMatchObject({ action: 'deleted-empty' });
    } finally {
      chmodSync(path, 0o644);
    }
    expect(existsSync(journalPathFor(path))).toBe(false);
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('a read-only image with a hot journal is reported, not written', async () => {
    const { path, bytes } = patterned(8192, 5);
    await killedWriter(path, [[512, 512, 0x77]]);
    const torn = readFileSync(path);
    chmodSync(path, 0o444);
    try {
      expect(() => recoverHotJournal(path)).toThrow(expect.objectContaining({ code: 'E_JOURNAL' }));
      expect(readFileSync(path).equals(torn)).toBe(true);
    } finally {
      chmodSync(path, 0o644);
    }
    recoverHotJournal(path);
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });
});

function readBootId(): Uint8Array {
  try {
    return Uint8Array.from(Buffer.from(readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').replace(/[^0-9a-f]/gi, ''), 'hex'));
  } catch {
    return new Uint8Array(16);
  }
}
