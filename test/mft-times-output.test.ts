/**
 * FILETIME formatting (filetime.ts) and the JSONL time blocks (format-jsonl.ts
 * writeTimes), which copy earlier bytes when a time or a whole block of four repeats,
 * checked against an independent model: BigInt ticks and Date.toISOString for the
 * calendar part. Times are drawn from a small pool so the repeat caches hit and miss
 * in every order, across buffer rewinds.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { filetimeToIso } from '../src/engine/ntfs/filetime.js';
import { ByteWriter, ConstBytes } from '../src/engine/ntfs/byte-writer.js';
import { jsonlFormatter, writeTimes } from '../src/engine/ntfs/format-jsonl.js';
import { writeRows } from '../src/engine/ntfs/format-rows.js';
import { indexMftSource } from '../src/engine/ntfs/open-mft.js';
import { MemoryBlockSource } from '../src/io/block-source.js';
import { encodeResidentAttribute, AttributeType } from '../src/engine/ntfs/attributes/attribute-header.js';
import { encodeStandardInformation } from '../src/engine/ntfs/attributes/x10-standard-information.js';
import { encodeFileName, FileNamespace } from '../src/engine/ntfs/attributes/x30-file-name.js';
import { buildDump, buildRecord, residentData } from './helpers/mft-builder.js';

const TICKS_1601_TO_1970 = 116444736000000000n;
const KEYS = ['created', 'modified', 'mftModified', 'accessed'] as const;
type FourTimes = Record<(typeof KEYS)[number], bigint>;
/** First FILETIME of the year 10000 (the 28-byte ISO form covers the years before it). */
const YEAR_10000 = BigInt(Date.UTC(10000, 0, 1)) * 10000n + TICKS_1601_TO_1970;

function modelIso(lo: number, hi: number): string {
  const ticks = (BigInt(hi) << 32n) | BigInt(lo);
  const sinceUnix = ticks - TICKS_1601_TO_1970;
  const ms = sinceUnix >= 0n ? sinceUnix / 10000n : -((-sinceUnix + 9999n) / 10000n);
  const d = new Date(Number(ms));
  const two = (n: number): string => String(n).padStart(2, '0');
  // Years past 9999 get all their digits (toISOString would write +010000)
  const calendar = `${String(d.getUTCFullYear()).padStart(4, '0')}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}T${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}.`;
  return `${calendar}${String(ticks % 10_000_000n).padStart(7, '0')}Z`;
}

/** A FILETIME in the years 1601..9999 as (lo, hi). */
const filetime = fc.bigInt({ min: 0n, max: YEAR_10000 - 1n }).map((t) => [Number(t & 0xffffffffn), Number(t >> 32n)] as const);
/** A few FILETIMEs made of few distinct low and high words, so times that share one word but not the other occur. */
const timePool = fc
  .tuple(fc.array(fc.nat({ max: 0xffffffff }), { minLength: 1, maxLength: 3 }), fc.array(fc.nat({ max: Number(YEAR_10000 >> 32n) - 1 }), { minLength: 1, maxLength: 3 }))
  .chain(([los, his]) => fc.array(fc.tuple(fc.constantFrom(...los), fc.constantFrom(...his)), { minLength: 1, maxLength: 6 }));

describe('FILETIME and JSONL time blocks', () => {
  it('filetimeToIso equals the BigInt/Date model, one call after another (the cached second changes and repeats)', () => {
    fc.assert(
      fc.property(fc.array(filetime, { minLength: 1, maxLength: 40 }), (times) => {
        for (const [lo, hi] of times) expect(filetimeToIso(lo, hi)).toBe(modelIso(lo, hi));
      }),
      { numRuns: 300 },
    );
  });

  it('writeTimes gives the model times for blocks drawn from a small pool (repeated times and blocks), in a buffer rewound between some of them', () => {
    const open = new ConstBytes('{"created":"');
    const close = new ConstBytes('"}');
    const keys = ['created', 'modified', 'mftModified', 'accessed'] as const;
    fc.assert(
      fc.property(
        timePool,
        fc.array(fc.tuple(fc.array(fc.nat(), { minLength: 4, maxLength: 4 }), fc.boolean()), { minLength: 1, maxLength: 30 }),
        (pool, blocks) => {
          const w = new ByteWriter(256);
          for (const [picks, rewind] of blocks) {
            if (rewind) w.rewind();
            const chosen = picks.map((k) => pool[k % pool.length]!);
            const times = new Uint32Array(chosen.flatMap(([lo, hi]) => [lo, hi]));
            const start = w.pos;
            writeTimes(w, times, 0, open, close);
            const parsed = JSON.parse(w.buf.subarray(start, w.pos).toString('latin1')) as Record<string, string>;
            expect(Object.keys(parsed)).toEqual([...keys]);
            keys.forEach((key, k) => expect(parsed[key]).toBe(modelIso(chosen[k]![0], chosen[k]![1])));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('JSONL rows carry the model times of their records: times drawn per record from few seconds (rows rewrite only what changed), some past the year 9999, some records without $STANDARD_INFORMATION', async () => {
    const second = fc.bigInt({ min: 0n, max: YEAR_10000 / 10_000_000n + 20n }).map((s) => s * 10_000_000n);
    const record = (seconds: bigint[]) =>
      fc.record({
        si: fc.option(fc.array(fc.tuple(fc.constantFrom(...seconds), fc.nat({ max: 9_999_999 })), { minLength: 4, maxLength: 4 }), { nil: null, freq: 6 }),
        fn: fc.array(fc.tuple(fc.constantFrom(...seconds), fc.nat({ max: 9_999_999 })), { minLength: 4, maxLength: 4 }),
        fnFromSi: fc.boolean(),
      });
    await fc.assert(
      fc.asyncProperty(
        fc.array(second, { minLength: 1, maxLength: 3 }).chain((seconds) => fc.array(record(seconds), { minLength: 1, maxLength: 40 })),
        async (specs) => {
          const toTimes = (ts: [bigint, number][]): FourTimes => Object.fromEntries(KEYS.map((k, i) => [k, ts[i]![0] + BigInt(ts[i]![1])])) as FourTimes;
          const expected: { si: FourTimes | null; fn: FourTimes }[] = [];
          const records = new Map<number, Uint8Array>();
          specs.forEach((spec, i) => {
            const si = spec.si ? toTimes(spec.si) : null;
            // fn equal to si (a file never modified): the whole block repeats
            const fn = spec.fnFromSi && si ? si : toTimes(spec.fn);
            const attributes = [
              ...(si ? [encodeResidentAttribute(AttributeType.STANDARD_INFORMATION, encodeStandardInformation(si, 0x20))] : []),
              encodeResidentAttribute(AttributeType.FILE_NAME, encodeFileName({ parentRecord: 5, parentSequence: 1, name: `t${i}`, namespace: FileNamespace.WIN32, times: fn }), { indexed: true }),
              residentData(1),
            ];
            records.set(16 + i, buildRecord({ attributes }));
            expected.push({ si, fn });
          });
          const { index } = await indexMftSource(new MemoryBlockSource(buildDump(records, 16 + specs.length)));
          const parts: Buffer[] = [];
          // 2 KiB flushes into one reused buffer: rows are often the first after a rewind
          await writeRows(index, {}, jsonlFormatter, (b) => void parts.push(Buffer.from(b)), 2048, true);
          const rows = Buffer.concat(parts).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as { record: number; si: Record<string, string> | null; fn: Record<string, string> });
          const iso = (t: bigint): string => modelIso(Number(t & 0xffffffffn), Number(t >> 32n));
          const model = (times: FourTimes | null) => (times ? Object.fromEntries(KEYS.map((k) => [k, iso(times[k])])) : null);
          for (const row of rows.filter((r) => r.record >= 16)) {
            const e = expected[row.record - 16]!;
            expect(row.si).toEqual(model(e.si));
            expect(row.fn).toEqual(model(e.fn));
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
