/**
 * JSONL output written through a small, reused output buffer (how --out and
 * /dev/null are written) must be byte-identical to output written through fresh
 * buffers: the formatter's repeat caches (directory prefix, timestamps) copy bytes
 * from earlier in the buffer and must notice when the buffer was rewound.
 */
import { describe, expect, it } from 'vitest';
import { buildDump, dirRecord, fileRecord } from './helpers/mft-builder.js';
import { MemoryBlockSource } from '../src/io/block-source.js';
import { indexMftSource } from '../src/engine/ntfs/open-mft.js';
import { writeRows } from '../src/engine/ntfs/format-rows.js';
import { jsonlFormatter } from '../src/engine/ntfs/format-jsonl.js';
import { ByteWriter } from '../src/engine/ntfs/byte-writer.js';
import { forEachRow } from '../src/engine/ntfs/mft-index.js';

describe('MFT JSONL output buffers', () => {
  it('a reused buffer flushed every few rows gives the same bytes as fresh buffers, inside one large directory', async () => {
    const records = new Map<number, Uint8Array>();
    records.set(16, dirRecord('a directory with a long enough name to be worth repeating', 5));
    const files = 300;
    for (let i = 0; i < files; i++) records.set(17 + i, fileRecord(`file-${String(i).padStart(4, '0')}.txt`, 16, { size: i }));
    const { index } = await indexMftSource(new MemoryBlockSource(buildDump(records, 17 + files)));

    const fresh: Buffer[] = [];
    await writeRows(index, {}, jsonlFormatter, (b) => void fresh.push(Buffer.from(b)));
    const reused: Buffer[] = [];
    // 1 KiB flushes: the buffer is rewound every couple of rows, mid-directory
    await writeRows(index, {}, jsonlFormatter, (b) => void reused.push(Buffer.from(b)), 1024, true);

    const expected = Buffer.concat(fresh);
    expect(expected.toString('utf8').split('\n').filter(Boolean).length).toBeGreaterThan(files);
    expect(Buffer.concat(reused).equals(expected)).toBe(true);
  });

  it('blocks formatted alternately into two reused buffers (as the two-thread writer does) give the same bytes as one buffer', async () => {
    const records = new Map<number, Uint8Array>();
    records.set(16, dirRecord('shared directory', 5));
    for (let i = 0; i < 200; i++) records.set(17 + i, fileRecord(`f${i}.txt`, 16, { size: i }));
    const { index } = await indexMftSource(new MemoryBlockSource(buildDump(records, 217)));
    const fresh: Buffer[] = [];
    await writeRows(index, {}, jsonlFormatter, (b) => void fresh.push(Buffer.from(b)));

    // Each buffer starts, and is rewound, at its own first epoch: caches of "bytes at
    // offset x" made in one buffer must not be taken for the other's.
    const buffers = [new ByteWriter(1 << 16), new ByteWriter(1 << 16)];
    const out: Buffer[] = [];
    for (let from = 0, k = 0; from < 217; from += 8, k++) {
      const w = buffers[k & 1]!;
      forEachRow(index, {}, from, Math.min(217, from + 8), (row) => jsonlFormatter.row(w, index, row));
      out.push(Buffer.from(w.buf.subarray(0, w.pos)));
      w.rewind();
    }
    expect(Buffer.concat(out).equals(Buffer.concat(fresh))).toBe(true);
  });
});
