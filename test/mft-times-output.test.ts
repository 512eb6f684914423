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
import { writeTimes } from '../src/engine/ntfs/format-jsonl.js';

const TICKS_1601_TO_1970 = 116444736000000000n;
/** First FILETIME of the year 10000: the model (and the 28-byte form) covers the years before it. */
const YEAR_10000 = BigInt(Date.UTC(10000, 0, 1)) * 10000n + TICKS_1601_TO_1970;

function modelIso(lo: number, hi: number): string {
  const ticks = (BigInt(hi) << 32n) | BigInt(lo);
  const sinceUnix = ticks - TICKS_1601_TO_1970;
  const ms = sinceUnix >= 0n ? sinceUnix / 10000n : -((-sinceUnix + 9999n) / 10000n);
  const calendar = new Date(Date.UTC(1970, 0, 1) + Number(ms)).toISOString().slice(0, 20);
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
});
