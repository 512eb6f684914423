/**
 * A whole file copied out on both cores (file-reader.ts writeWholeTo, used by `cp`): the
 * output must hold exactly the file's bytes (holes and a hole at the end included), a
 * damaged extent must be reported by its page with none of its bytes written, and
 * without a second core the reader must decline, leaving the output untouched. The
 * expectation is the data the image was written from.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CartridgeStore } from '../../src/engine/cartridge/store.js';
import { openCartridgeReader } from '../../src/engine/cartridge/file-reader.js';
import { extentContextOf } from '../../src/engine/cartridge/compact.js';
import { codecPoolCounts } from '../../src/engine/cartridge/codec-pool.js';
import { decodeExtentRecord } from '../../src/engine/cartridge/extent-record.js';
import { BTree } from '../../src/engine/cartridge/btree.js';
import { PageType } from '../../src/engine/cartridge/page.js';
import { Compression } from '../../src/engine/cartridge/superblock.js';
import { forceLz4Backend } from '../../src/engine/cartridge/lz4-native.js';
import { DiskkitError, ErrorCode } from '../../src/engine/errors.js';
import { threadBudget } from '../../src/io/thread-budget.js';
import { diskkit } from '../helpers/cli.js';
import { mixedExtentsSample, scratchDir, writeBigFileImage } from './scratch.js';

const nextPath = scratchDir('whole-write');
const mib = 1 << 20;
const PASSPHRASE = 'whole-write secret';

/** Opens /big.bin of `image` and runs writeWholeTo into a new file; returns what it returned and the file. */
function writeWhole(image: string, passphrase?: string): { whole: boolean; output: string; error?: unknown } {
  const output = `${nextPath()}.out`;
  const store = CartridgeStore.open(image, { passphrase });
  const fd = openSync(output, 'wx');
  try {
    const reader = openCartridgeReader(store.file.pager, extentContextOf(store.file), store.stat('/big.bin'), '/big.bin');
    return { whole: reader.writeWholeTo!(fd, output), output };
  } catch (error) {
    return { whole: false, output, error };
  } finally {
    closeSync(fd);
    store.close();
  }
}

function extentAt(path: string, offset: number) {
  const store = CartridgeStore.open(path, { passphrase: PASSPHRASE });
  try {
    const inode = store.stat('/big.bin');
    if (inode.data.mode !== 'extent-map') throw new Error('expected an extent map');
    const { pageSize, space } = store.file.pager;
    for (const [key, value] of new BTree(store.file.pager, PageType.EXTENT_MAP_NODE, inode.data.root).range()) {
      if (Number(new DataView(key.buffer, key.byteOffset, 8).getBigUint64(0)) === offset) return { record: decodeExtentRecord(value, 0, pageSize, space.pageCount), pageSize };
    }
    throw new Error(`no extent at ${offset}`);
  } finally {
    store.close();
  }
}

function flipByte(path: string, at: number): void {
  const fd = openSync(path, 'r+');
  try {
    const byte = new Uint8Array(1);
    readSync(fd, byte, 0, 1, at);
    byte[0] ^= 0x10;
    writeSync(fd, byte, 0, 1, at);
  } finally {
    closeSync(fd);
  }
}

const cases = [
  // lz4 by the JS codec and encrypted extents cost enough to take both cores from 8 MiB (file-reader.ts).
  { name: 'lz4 by the JS codec', compression: Compression.LZ4, passphrase: undefined, js: true },
  { name: 'lz4, encrypted', compression: Compression.LZ4, passphrase: PASSPHRASE, js: false },
  { name: 'uncompressed, encrypted', compression: Compression.NONE, passphrase: PASSPHRASE, js: false },
];

describe('writeWholeTo: a whole file written out on both cores', () => {
  afterEach(() => {
    forceLz4Backend(null);
    delete process.env.DISKKIT_THREADS;
  });

  for (const c of cases) {
    it(`${c.name}: the file's bytes, a hole at the end included, written by both threads`, () => {
      // Ends in a hole (11 MiB: text, noise, zeros... the last MiB zeros) plus a few zero bytes: the size is set, not written.
      const data = mixedExtentsSample(11 * mib + 0).subarray(0, 11 * mib - 3);
      if (c.js) forceLz4Backend('js');
      const image = writeBigFileImage(nextPath(), data, c.compression, c.passphrase);
      const before = codecPoolCounts.workerJobs;
      // The worker starts during the first copy and may leave it all to this thread on a loaded machine: up to 10 copies.
      for (let round = 0; round === 0 || (round < 10 && codecPoolCounts.workerJobs === before); round++) {
        const { whole, output, error } = writeWhole(image, c.passphrase);
        expect(error).toBeUndefined();
        expect(whole).toBe(threadBudget() > 1);
        if (!whole) break;
        expect(statSync(output).size).toBe(data.length);
        expect(Buffer.compare(readFileSync(output), data)).toBe(0);
      }
      if (threadBudget() > 1) expect(codecPoolCounts.workerJobs).toBeGreaterThan(before);
    });
  }

  it('a damaged extent is E_CHECKSUM (or a tag mismatch) naming its page, and none of its bytes reach the output', () => {
    for (const passphrase of [undefined, PASSPHRASE]) {
      const data = mixedExtentsSample(12 * mib + 4321);
      if (!passphrase) forceLz4Backend('js');
      const image = writeBigFileImage(nextPath(), data, Compression.LZ4, passphrase);
      const { record, pageSize } = extentAt(image, 6 * mib);
      flipByte(image, record.address * pageSize + 100);
      const { output, error } = writeWhole(image, passphrase);
      if (threadBudget() === 1) {
        expect(error).toBeUndefined();
        continue;
      }
      expect(error).toBeInstanceOf(DiskkitError);
      expect((error as DiskkitError).code).toBe(ErrorCode.CHECKSUM);
      expect((error as DiskkitError).message).toContain(`extent at page ${record.address}`);
      // Whatever else was written before the error, the damaged extent's range holds no byte of it.
      const written = readFileSync(output);
      const range = written.subarray(6 * mib, 7 * mib);
      expect(range.every((b) => b === 0)).toBe(true);
      forceLz4Backend(null);
    }
  });

  it('declines on one core, and for a plain lz4 file below 128 MiB, writing nothing', () => {
    const data = mixedExtentsSample(12 * mib + 4321);
    const image = writeBigFileImage(nextPath(), data, Compression.LZ4, PASSPHRASE);
    process.env.DISKKIT_THREADS = '1';
    const one = writeWhole(image, PASSPHRASE);
    expect(one.error).toBeUndefined();
    expect(one.whole).toBe(false);
    expect(statSync(one.output).size).toBe(0);
    delete process.env.DISKKIT_THREADS;
    // lz4 through the C library, unencrypted: cheap enough that the worker's start pays only from 128 MiB.
    const plain = writeBigFileImage(nextPath(), data, Compression.LZ4);
    const cheap = writeWhole(plain);
    expect(cheap.error).toBeUndefined();
    expect(cheap.whole).toBe(false);
    expect(statSync(cheap.output).size).toBe(0);
  });
});

describe('cp out of a cartridge through writeWholeTo', () => {
  it('copies the file with its time, and on a damaged extent exits 1 naming the page and leaves no output file', async () => {
    const data = mixedExtentsSample(12 * mib + 4321);
    const image = writeBigFileImage(nextPath(), data, Compression.LZ4, PASSPHRASE);
    const env = { DISKKIT_PASSPHRASE: PASSPHRASE };
    const out = join(`${nextPath()}.dir`);
    const target = `${out}-big.bin`;
    const copied = await diskkit(['cp', `${image}:/big.bin`, target], { env });
    expect(copied.stderr).toBe('');
    expect(copied.exitCode).toBe(0);
    expect(Buffer.compare(readFileSync(target), data)).toBe(0);
    const store = CartridgeStore.open(image, { passphrase: PASSPHRASE });
    const mtimeMs = store.stat('/big.bin').mtimeMs;
    store.close();
    expect(Math.abs(statSync(target).mtimeMs - mtimeMs)).toBeLessThan(1000);

    const { record, pageSize } = extentAt(image, 9 * mib);
    flipByte(image, record.address * pageSize + 7);
    const failed = `${out}-failed.bin`;
    const result = await diskkit(['cp', `${image}:/big.bin`, failed], { env });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`page ${record.address}`);
    expect(existsSync(failed)).toBe(false);
  });
});
