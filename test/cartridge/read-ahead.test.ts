import { afterEach, describe, expect, it } from 'vitest';
import { closeSync, openSync, readSync, truncateSync, writeSync } from 'node:fs';
import { CartridgeStore } from '../../src/engine/cartridge/store.js';
import { openCartridgeReader } from '../../src/engine/cartridge/file-reader.js';
import { extentContextOf } from '../../src/engine/cartridge/compact.js';
import { codecPoolCounts } from '../../src/engine/cartridge/codec-pool.js';
import { decodeExtentRecord } from '../../src/engine/cartridge/extent-record.js';
import { BTree } from '../../src/engine/cartridge/btree.js';
import { PageType } from '../../src/engine/cartridge/page.js';
import { Compression } from '../../src/engine/cartridge/superblock.js';
import { forceLz4Backend, lz4Backend } from '../../src/engine/cartridge/lz4-native.js';
import { DiskkitError, ErrorCode } from '../../src/engine/errors.js';
import { threadBudget } from '../../src/io/thread-budget.js';
import { FileDataBlockSource } from '../../src/io/file-data-source.js';
import { scanExtents } from '../../src/io/scan.js';
import { mixedExtentsSample, scratchDir, writeBigFileImage } from './scratch.js';

const nextPath = scratchDir('read-ahead');
const mib = 1 << 20;

/** Reads the whole file in order with `chunk`-byte reads (as cp and cat do). */
function readInOrder(path: string, chunk: number, passphrase?: string): Uint8Array {
  const store = CartridgeStore.open(path, { passphrase });
  try {
    const ctx = extentContextOf(store.file);
    expect(ctx.dataKey !== null).toBe(passphrase !== undefined);
    const reader = openCartridgeReader(store.file.pager, ctx, store.stat('/big.bin'), '/big.bin');
    const out = new Uint8Array(reader.size);
    const buf = new Uint8Array(chunk);
    for (let at = 0; at < reader.size; at += chunk) {
      const n = Math.min(chunk, reader.size - at);
      reader.read(buf, n, at);
      out.set(buf.subarray(0, n), at);
    }
    return out;
  } finally {
    store.close();
  }
}

/** The extent records of /big.bin in `path`, with their file offsets, and the image's page size. */
function extentRecords(path: string) {
  const store = CartridgeStore.open(path);
  try {
    const inode = store.stat('/big.bin');
    if (inode.data.mode !== 'extent-map') throw new Error('expected an extent map');
    const pageSize = store.file.pager.pageSize;
    const pageCount = store.file.pager.space.pageCount;
    const records = [...new BTree(store.file.pager, PageType.EXTENT_MAP_NODE, inode.data.root).range()].map(([key, value]) => ({ offset: Number(new DataView(key.buffer, key.byteOffset, 8).getBigUint64(0)), record: decodeExtentRecord(value, 0, pageSize, pageCount) }));
    return { records, pageSize };
  } finally {
    store.close();
  }
}

/** Flips the bits `mask` of the byte at `at` in the file `path`. */
function flipByte(path: string, at: number, mask: number): void {
  const fd = openSync(path, 'r+');
  try {
    const byte = new Uint8Array(1);
    readSync(fd, byte, 0, 1, at);
    byte[0] ^= mask;
    writeSync(fd, byte, 0, 1, at);
  } finally {
    closeSync(fd);
  }
}

describe('read-ahead on both cores', () => {
  // Plain lz4 through the C library is cheap enough to decode on one thread below 512 MiB
  // (file-reader.ts); the JS codec makes these 12 MiB files take the read-ahead path.
  afterEach(() => forceLz4Backend(null));

  for (const passphrase of [undefined, 'read-ahead secret']) {
    it(`reads a large file in order with any chunk size${passphrase ? ' (encrypted)' : ' (lz4 by the JS codec)'}`, () => {
      const data = mixedExtentsSample(12 * mib + 4321);
      const path = writeBigFileImage(nextPath(), data, Compression.LZ4, passphrase);
      if (!passphrase) forceLz4Backend('js');
      const before = codecPoolCounts.workerJobs;
      // The worker starts during the first read and takes jobs as it can (a loaded machine
      // may leave a whole read to this thread): every chunk size once, then again until
      // the worker has decoded something (at most 10 rounds).
      for (let round = 0; round === 0 || (round < 10 && codecPoolCounts.workerJobs === before); round++) {
        for (const chunk of passphrase ? [777_777] : [mib, 65_536, 777_777, 3 * mib + 5]) expect(Buffer.compare(readInOrder(path, chunk, passphrase), data)).toBe(0);
      }
      if (threadBudget() > 1) expect(codecPoolCounts.workerJobs).toBeGreaterThan(before);
    });
  }

  it('a plain lz4 file decoded by the C library is read on this thread alone below 512 MiB, the same bytes', () => {
    expect(lz4Backend()).toBe('c');
    const data = mixedExtentsSample(12 * mib + 4321);
    const path = writeBigFileImage(nextPath(), data, Compression.LZ4);
    const before = codecPoolCounts.workerJobs;
    for (const chunk of [mib, 777_777]) expect(Buffer.compare(readInOrder(path, chunk), data)).toBe(0);
    expect(codecPoolCounts.workerJobs).toBe(before);
  });

  it('reports a damaged extent ahead by its page, when the read reaches it and not before', () => {
    const data = mixedExtentsSample(12 * mib + 4321);
    const path = writeBigFileImage(nextPath(), data, Compression.LZ4);
    forceLz4Backend('js');
    // The extent at 6 MiB (text, lz4): flip one byte of its stored bytes.
    const { records, pageSize } = extentRecords(path);
    const target = records.find((r) => r.offset === 6 * mib)!;
    expect(target.record.compression).toBe(Compression.LZ4);
    flipByte(path, target.record.address * pageSize + 100, 0x10);
    const reopened = CartridgeStore.open(path);
    try {
      const reader = openCartridgeReader(reopened.file.pager, extentContextOf(reopened.file), reopened.stat('/big.bin'), '/big.bin');
      const buf = new Uint8Array(mib);
      for (let offset = 0; offset < 6 * mib; offset += mib) {
        reader.read(buf, mib, offset);
        expect(Buffer.compare(buf, data.subarray(offset, offset + mib))).toBe(0);
      }
      let error: unknown;
      try {
        reader.read(buf, mib, 6 * mib);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DiskkitError);
      expect((error as DiskkitError).code).toBe(ErrorCode.CHECKSUM);
      expect((error as DiskkitError).message).toContain(`extent at page ${target.record.address}`);
      // Past it, reading goes on.
      reader.read(buf, mib, 9 * mib);
      expect(Buffer.compare(buf, data.subarray(9 * mib, 10 * mib))).toBe(0);
    } finally {
      reopened.close();
    }
  });
});

describe('read-ahead jobs read their own stored bytes', () => {
  afterEach(() => forceLz4Backend(null));

  it('an image cut short under a reader: the extents before the cut read right, the one it cuts is E_TRUNCATED naming its page', () => {
    const data = mixedExtentsSample(12 * mib + 4321);
    const path = writeBigFileImage(nextPath(), data, Compression.LZ4);
    forceLz4Backend('js');
    const { records, pageSize } = extentRecords(path);
    const target = records.find((r) => r.offset === 7 * mib)!;
    const store = CartridgeStore.open(path);
    try {
      const reader = openCartridgeReader(store.file.pager, extentContextOf(store.file), store.stat('/big.bin'), '/big.bin');
      const buf = new Uint8Array(mib);
      // The first extents are read (and the extent map cached) before the image is cut behind the reader's back.
      for (let offset = 0; offset < 2 * mib; offset += mib) reader.read(buf, mib, offset);
      truncateSync(path, target.record.address * pageSize + 100);
      // In order, holes included (a read elsewhere would stop the read-ahead).
      for (let offset = 2 * mib; offset < 7 * mib; offset += mib) {
        reader.read(buf, mib, offset);
        expect(Buffer.compare(buf, data.subarray(offset, offset + mib)), `offset ${offset}`).toBe(0);
      }
      const rerunBefore = codecPoolCounts.rerunJobs;
      let error: unknown;
      try {
        reader.read(buf, mib, 7 * mib);
      } catch (e) {
        error = e;
      }
      // The failed job is run again on this thread, which reports the read's own error.
      if (threadBudget() > 1) expect(codecPoolCounts.rerunJobs).toBeGreaterThan(rerunBefore);
      expect(error).toBeInstanceOf(DiskkitError);
      expect((error as DiskkitError).code).toBe(ErrorCode.TRUNCATED);
      expect((error as DiskkitError).message).toContain(`image ends inside page ${target.record.address}`);
    } finally {
      store.close();
    }
  });
});

describe('uncompressed extents', () => {
  it('returns the same bytes whatever the read size, zeroes holes and the tail, and reports a damaged extent, writing nothing past the read', () => {
    const data = mixedExtentsSample(12 * mib + 4321);
    const path = writeBigFileImage(nextPath(), data, Compression.NONE);
    const { records, pageSize } = extentRecords(path);
    // Extent-sized reads, odd sizes and one read across everything: the same bytes.
    for (const chunk of [mib, 65536, 777_777, 13 * mib]) expect(Buffer.compare(readInOrder(path, chunk), data), `chunk ${chunk}`).toBe(0);
    // Damage the stored bytes of a raw extent the model says holds noise (1 MiB at 4 MiB).
    const target = records.find((r) => r.offset === 4 * mib)!;
    expect(target.record.compression).toBe(Compression.NONE);
    expect(target.record.logicalLength).toBe(mib);
    flipByte(path, target.record.address * pageSize + 5000, 0x01);
    const reopened = CartridgeStore.open(path);
    try {
      const reader = openCartridgeReader(reopened.file.pager, extentContextOf(reopened.file), reopened.stat('/big.bin'), '/big.bin');
      // A buffer longer than the read: the bytes past it belong to the caller and stay as they were.
      const buf = new Uint8Array(mib + 4096).fill(0xee);
      reader.read(buf, mib, 3 * mib);
      expect(Buffer.compare(buf.subarray(0, mib), data.subarray(3 * mib, 4 * mib))).toBe(0);
      expect(buf.subarray(mib).every((b) => b === 0xee)).toBe(true);
      let error: unknown;
      try {
        reader.read(buf, mib, 4 * mib);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DiskkitError);
      expect((error as DiskkitError).code).toBe(ErrorCode.CHECKSUM);
      expect((error as DiskkitError).message).toContain(`extent at page ${target.record.address}`);
      // The last, partial extent and its zero tail.
      const tail = data.length - 12 * mib;
      buf.fill(0xee);
      reader.read(buf, tail, 12 * mib);
      expect(Buffer.compare(buf.subarray(0, tail), data.subarray(12 * mib))).toBe(0);
      expect(buf.subarray(tail).every((b) => b === 0xee)).toBe(true);
    } finally {
      reopened.close();
    }
  });
});

/** Reads the whole file in order as streaming does: a view where the reader lends one, else read(); returns the bytes and where views were lent. */
function readByViews(path: string, chunk: number, passphrase?: string): { out: Uint8Array; viewed: number[] } {
  const store = CartridgeStore.open(path, { passphrase });
  try {
    const reader = openCartridgeReader(store.file.pager, extentContextOf(store.file), store.stat('/big.bin'), '/big.bin');
    const out = new Uint8Array(reader.size);
    const buf = new Uint8Array(chunk);
    const viewed: number[] = [];
    for (let at = 0; at < reader.size; at += chunk) {
      const n = Math.min(chunk, reader.size - at);
      const view = reader.view!(n, at);
      if (view) {
        expect(view.length).toBe(n);
        viewed.push(at);
        out.set(view, at);
      } else {
        reader.read(buf, n, at);
        out.set(buf.subarray(0, n), at);
      }
    }
    return { out, viewed };
  } finally {
    store.close();
  }
}

describe('views of decoded extents (what cat and cp out hand to write(2) without a copy)', () => {
  afterEach(() => forceLz4Backend(null));

  const variants = [
    { name: 'lz4 through the read-ahead worker (JS codec)', compression: Compression.LZ4, js: true },
    { name: 'lz4 on this thread (C library)', compression: Compression.LZ4, js: false },
    { name: 'uncompressed', compression: Compression.NONE, js: false },
    { name: 'lz4, encrypted', compression: Compression.LZ4, js: false, passphrase: 'view secret' },
  ];
  for (const v of variants) {
    it(`${v.name}: the same bytes as the file, a view exactly where one extent holds the whole range`, () => {
      const data = mixedExtentsSample(12 * mib + 4321);
      const path = writeBigFileImage(nextPath(), data, v.compression, v.passphrase);
      const { records } = v.passphrase ? { records: null } : extentRecords(path);
      if (v.js) forceLz4Backend('js');
      for (const chunk of [256 << 10, 777_777]) {
        const { out, viewed } = readByViews(path, chunk, v.passphrase);
        expect(Buffer.compare(out, data), `chunk ${chunk}`).toBe(0);
        if (records) {
          // The expectation from the extent map itself: a range inside one extent is lent, a hole or a range across two is not.
          const expected: number[] = [];
          for (let at = 0; at < data.length; at += chunk) {
            const end = Math.min(at + chunk, data.length);
            if (records.some((r) => r.offset <= at && end <= r.offset + r.record.logicalLength)) expected.push(at);
          }
          expect(viewed).toEqual(expected);
          expect(viewed.length).toBeGreaterThan(0);
          expect(viewed.length).toBeLessThan(Math.ceil(data.length / chunk));
        } else expect(viewed.length).toBeGreaterThan(0);
      }
    });
  }

  it('never lends a view of a damaged extent: the view call is E_CHECKSUM naming it, and reading goes on past it', () => {
    const data = mixedExtentsSample(12 * mib + 4321);
    const path = writeBigFileImage(nextPath(), data, Compression.NONE);
    const { records, pageSize } = extentRecords(path);
    const target = records.find((r) => r.offset === 4 * mib)!;
    flipByte(path, target.record.address * pageSize + 777, 0x80);
    const reopened = CartridgeStore.open(path);
    try {
      const reader = openCartridgeReader(reopened.file.pager, extentContextOf(reopened.file), reopened.stat('/big.bin'), '/big.bin');
      const view = reader.view!(65536, 3 * mib);
      expect(Buffer.compare(view!, data.subarray(3 * mib, 3 * mib + 65536))).toBe(0);
      let error: unknown;
      try {
        reader.view!(65536, 4 * mib + 65536);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DiskkitError);
      expect((error as DiskkitError).code).toBe(ErrorCode.CHECKSUM);
      expect((error as DiskkitError).message).toContain(`extent at page ${target.record.address}`);
      const after = reader.view!(4096, 7 * mib);
      expect(Buffer.compare(after!, data.subarray(7 * mib, 7 * mib + 4096))).toBe(0);
    } finally {
      reopened.close();
    }
  });
});

describe('streaming scan of a Cartridge file (cat, cp out)', () => {
  it('reads in extent-sized chunks, lends every chunk an extent holds whole, and read()s only the holes', async () => {
    const data = mixedExtentsSample(12 * mib + 4321);
    const path = writeBigFileImage(nextPath(), data, Compression.LZ4);
    const { records } = extentRecords(path);
    const store = CartridgeStore.open(path);
    try {
      const reader = openCartridgeReader(store.file.pager, extentContextOf(store.file), store.stat('/big.bin'), '/big.bin');
      let reads = 0;
      const read = reader.read.bind(reader);
      reader.read = (buf, length, position) => {
        reads++;
        read(buf, length, position);
      };
      const { source, extents } = FileDataBlockSource.ofFile('/big.bin', reader);
      const out = new Uint8Array(data.length);
      const result = await scanExtents(source, extents, (chunk, at) => void out.set(chunk, at));
      expect(Buffer.compare(out, data)).toBe(0);
      expect(result.mode).toBe('streaming');
      expect(result.chunkSize).toBe(mib);
      // The chunks no extent holds whole (the zero blocks written as holes), from the extent map.
      let holes = 0;
      for (let at = 0; at < data.length; at += mib) {
        const end = Math.min(at + mib, data.length);
        if (!records.some((r) => r.offset <= at && end <= r.offset + r.record.logicalLength)) holes++;
      }
      expect(holes).toBeGreaterThan(0);
      expect(reads).toBe(holes);
    } finally {
      store.close();
    }
  });
});
