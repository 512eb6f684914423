/**
 * The span plan of a fragmented chunk (read-spans.ts) against a model: over random run
 * lists (small gaps as interleaved files leave, adjacent runs, runs far apart, runs
 * going backwards on disk, runs larger than a span), every span obeys the gap rule,
 * spans are as long as the rule allows (a span stops only where the next piece breaks
 * the rule), and every byte of the file lands where the concatenation of its runs puts
 * it, in every read mode (the file's bytes are cut from a random image by the model,
 * independently of the reader).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SPAN_MAX_BYTES, SPAN_MAX_GAP, readPiecesSync, spanEnd } from '../../src/io/read-spans.js';
import type { ChunkPiece } from '../../src/io/chunk-plan.js';
import { CONCRETE_MODES, scanExtents } from '../../src/io/scan.js';
import { FileBlockSource } from '../../src/io/block-source.js';
import type { Extent } from '../../src/engine/volume.js';

const IMAGE_SIZE = 8 << 20;
let dir = '';
let imagePath = '';
let image: Buffer;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'diskkit-spans-'));
  imagePath = join(dir, 'image.bin');
  image = randomBytes(IMAGE_SIZE);
  writeFileSync(imagePath, image);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A run list as fragmentation makes it: each run placed after the previous one by a gap
 * drawn from the kinds that matter (none, one cluster, a few clusters, just under and over
 * the gap limit, far away, or backwards on the volume), lengths from a byte to past a span.
 */
const gapArb = fc.oneof(
  fc.constant(0),
  fc.constant(4096),
  fc.integer({ min: 1, max: 3 * 4096 }),
  fc.integer({ min: SPAN_MAX_GAP - 8, max: SPAN_MAX_GAP + 8 }),
  fc.integer({ min: SPAN_MAX_GAP + 1, max: 1 << 20 }),
  fc.integer({ min: -(1 << 20), max: -1 }),
);
const lengthArb = fc.oneof(fc.integer({ min: 1, max: 4096 }), fc.constant(4096), fc.integer({ min: 4096, max: 40_000 }), fc.integer({ min: SPAN_MAX_BYTES - 100, max: SPAN_MAX_BYTES + 5000 }));
const runsArb = fc
  .tuple(fc.integer({ min: 0, max: IMAGE_SIZE / 2 }), fc.array(fc.tuple(gapArb, lengthArb), { minLength: 1, maxLength: 120 }))
  .map(([start, steps]) => {
    const runs: Extent[] = [];
    let at = start;
    for (const [gap, length] of steps) {
      const position = Math.min(Math.max(0, at + gap), IMAGE_SIZE - length);
      runs.push({ position, length });
      at = position + length;
    }
    return runs;
  });

/** The model's idea of the file: its runs' bytes one after the other. */
function expected(runs: readonly Extent[]): Buffer {
  return Buffer.concat(runs.map((r) => image.subarray(r.position, r.position + r.length)));
}

function spans(pieces: readonly ChunkPiece[]): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < pieces.length; ) {
    const end = spanEnd(pieces, i);
    out.push([i, end]);
    i = end;
  }
  return out;
}

/** Whether pieces [first, end) satisfy the gap rule, checked from the rule's words. */
function obeysRule(pieces: readonly ChunkPiece[], first: number, end: number): boolean {
  let wanted = 0;
  for (let k = first; k < end; k++) {
    wanted += pieces[k]!.length;
    if (k > first) {
      const gap = pieces[k]!.position - (pieces[k - 1]!.position + pieces[k - 1]!.length);
      if (gap < 0 || gap > SPAN_MAX_GAP) return false;
    }
  }
  const span = pieces[end - 1]!.position + pieces[end - 1]!.length - pieces[first]!.position;
  return end === first + 1 || (span <= SPAN_MAX_BYTES && span - wanted <= wanted);
}

describe('read spans: a fragmented chunk in fewer preads', () => {
  it('the plan covers every piece once, in order, obeys the gap rule, and stops only where the rule does', () => {
    fc.assert(
      fc.property(runsArb, (pieces) => {
        const plan = spans(pieces);
        expect(plan[0]![0]).toBe(0);
        expect(plan[plan.length - 1]![1]).toBe(pieces.length);
        let wantedTotal = 0;
        let readTotal = 0;
        for (let s = 0; s < plan.length; s++) {
          const [first, end] = plan[s]!;
          expect(end).toBeGreaterThan(first);
          if (s > 0) expect(first).toBe(plan[s - 1]![1]);
          expect(obeysRule(pieces, first, end)).toBe(true);
          // Greedy and maximal: one more piece would break the rule.
          if (end < pieces.length) expect(obeysRule(pieces, first, end + 1)).toBe(false);
          for (let k = first; k < end; k++) wantedTotal += pieces[k]!.length;
          readTotal += pieces[end - 1]!.position + pieces[end - 1]!.length - pieces[first]!.position;
        }
        // Never more than twice the bytes wanted.
        expect(readTotal).toBeLessThanOrEqual(2 * wantedTotal);
      }),
      { numRuns: 300 },
    );
  });

  it('runs far apart are read run by run; one-cluster runs between one-cluster holes in spans of a few preads', () => {
    const far: ChunkPiece[] = Array.from({ length: 50 }, (_, i) => ({ position: i * (SPAN_MAX_GAP + 4096 + 1), length: 4096 }));
    expect(spans(far)).toHaveLength(50);
    const interleaved: ChunkPiece[] = Array.from({ length: 256 }, (_, i) => ({ position: i * 8192, length: 4096 }));
    const plan = spans(interleaved);
    // A span ends at SPAN_MAX_BYTES: 256 KiB holds 32 runs and the 31 holes between them.
    expect(plan).toHaveLength(Math.ceil(256 / 32));
  });

  it('readPiecesSync puts every byte where the concatenation of the runs puts it', () => {
    const fd = openSync(imagePath, 'r');
    try {
      fc.assert(
        fc.property(runsArb, (pieces) => {
          const want = expected(pieces);
          const buf = Buffer.alloc(want.length + 16, 0xa5);
          const calls = readPiecesSync(fd, 0, pieces, buf, () => new Error('short read'));
          expect(buf.subarray(0, want.length).equals(want)).toBe(true);
          // Nothing written past the chunk.
          expect(buf.subarray(want.length).every((b) => b === 0xa5)).toBe(true);
          // One pread per span on a regular file (reads are not cut short there).
          expect(calls).toBe(spans(pieces).length);
        }),
        { numRuns: 150 },
      );
    } finally {
      closeSync(fd);
    }
  });

  it('every read mode yields the runs bytes (scanExtents over a file of scattered runs)', async () => {
    const source = FileBlockSource.open(imagePath);
    try {
      await fc.assert(
        fc.asyncProperty(runsArb, fc.integer({ min: 4096, max: 1 << 20 }), async (runs, chunkSize) => {
          const want = expected(runs);
          for (const mode of CONCRETE_MODES) {
            const parts: Buffer[] = [];
            const r = await scanExtents(source, runs, (chunk) => void parts.push(Buffer.from(chunk)), { mode, chunkSize, workers: 2 });
            expect(r.bytes, mode).toBe(want.length);
            expect(Buffer.concat(parts).equals(want), mode).toBe(true);
          }
        }),
        { numRuns: 8 },
      );
    } finally {
      source.close();
    }
  }, 120_000);
});
