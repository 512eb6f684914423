/**
 * Seeded fuzzing of the MFT parser on a real dump (fixtures/ntfs/small.mft, made by
 * mkntfs + ntfs-3g): each case mutates a few records (bit flips, random bytes,
 * overwritten length/offset fields, swapped records) and indexes the result
 * in-process. Whatever the bytes, the indexer must finish with counts that add up,
 * never throw anything but a DiskkitError, and keep every path bounded.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { MemoryBlockSource } from '../src/io/block-source.js';
import { locateMft } from '../src/engine/ntfs/mft-source.js';
import { scanMft } from '../src/engine/ntfs/scan-mft.js';
import { buildIndex } from '../src/engine/ntfs/mft-index.js';
import { countRows } from '../src/engine/ntfs/format-rows.js';
import { isDiskkitError } from '../src/engine/errors.js';
import { collectRows } from '../src/engine/ntfs/mft-index.js';
import { seededRandom } from '../src/engine/seeded-random.js';
import { indexBytes } from './helpers/mft-index.js';

const dump = readFileSync(new URL('../fixtures/ntfs/small.mft', import.meta.url));
const RECORD = 1024;
const CASES = 10_000;
/** Records that hold files (past the metadata records), in a window to keep cases fast. */
const WINDOW = 96;


describe('MFT parser fuzzing (seeded)', () => {
  it(`survives ${CASES} mutated dumps with consistent counts`, async () => {
    const rand = seededRandom(0x5eed_0006);
    const int = (n: number) => Math.floor(rand() * n);
    // The first WINDOW records of the dump (root, metadata, first directories and files).
    const base = Buffer.from(dump.subarray(0, WINDOW * RECORD));
    const work = Buffer.alloc(base.length);
    let badSeen = 0;
    for (let c = 0; c < CASES; c++) {
      base.copy(work);
      const mutations = 1 + int(4);
      for (let m = 0; m < mutations; m++) {
        const rec = int(WINDOW) * RECORD;
        switch (int(6)) {
          case 0: work[rec + int(RECORD)] ^= 1 << int(8); break;
          case 1: for (let k = 0; k < 16; k++) work[rec + int(RECORD)] = int(256); break;
          case 2: work.writeUInt32LE(int(2) ? int(0x10000) : 0xffffffff, rec + 0x38 + 4 * int(40)); break;
          case 3: work.writeUInt16LE(int(0x10000), rec + 2 * int(0x30)); break;
          case 4: work.copy(work, rec, int(WINDOW) * RECORD, int(WINDOW) * RECORD + RECORD); break;
          default: work.fill(int(256), rec + int(RECORD), rec + RECORD); break;
        }
      }
      const bytes = c % 97 === 0 ? work.subarray(0, int(work.length)) : work;
      try {
        const layout = locateMft(new MemoryBlockSource(bytes));
        const scanned = await scanMft(layout, { chunkSize: (1 + int(8)) * RECORD });
        const index = buildIndex(layout, scanned);
        const totals = countRows(index, { deleted: c % 2 === 0, streams: c % 3 === 0 });
        const { records, badRecords, byStatus } = index.counts;
        // Independent of buildIndex's own bookkeeping: one record per whole record size of the dump (the
        // size record 0 declares at offset 0x1c, 1 KiB when that is not a sane power of two), and only
        // records that still start with the "FILE" signature can parse (cleanly or torn).
        const declared = bytes.length >= 0x20 ? bytes.readUInt32LE(0x1c) : 0;
        const size = declared >= 512 && declared <= 65536 && (declared & (declared - 1)) === 0 ? declared : RECORD;
        expect(records).toBe(Math.floor(bytes.length / size));
        let withSignature = 0;
        for (let r = 0; r + size <= bytes.length; r += size) if (bytes.toString('latin1', r, r + 4) === 'FILE') withSignature++;
        expect(byStatus.ok! + byStatus.torn!).toBeLessThanOrEqual(withSignature);
        expect(totals.rows).toBeLessThan(WINDOW * 8);
        if (badRecords > 0) badSeen++;
        if (c % 500 === 0) {
          for (const row of collectRows(index, { deleted: true }, 0, index.table.count, [])) expect(row.path.length).toBeLessThan(40000);
        }
      } catch (error) {
        if (!isDiskkitError(error)) throw error;
      }
      if (c % 500 === 0) {
        // Workers parse the same mutated bytes into the same rows (names claimed from shared blocks, dropped
        // records included), or fail with the same code: a worker failure (E_WORKER) alone is a failure here.
        const options = { deleted: true, streams: true };
        const settle = (run: Promise<{ text: string }>) =>
          run.then(
            (r) => ({ text: r.text }),
            (error: unknown) => {
              if (!isDiskkitError(error)) throw error;
              return { code: error.code };
            },
          );
        const [one, two] = await Promise.all([settle(indexBytes(bytes, options, { mode: 'streaming' })), settle(indexBytes(bytes, options, { mode: 'parallel', workers: 2, chunkSize: 3 * RECORD }))]);
        expect(two).toEqual(one);
      }
    }
    expect(badSeen).toBeGreaterThan(CASES / 4);
  }, 300_000);
});
