/**
 * A fragmented NTFS stream read through openStream (the path of sparse, compressed and
 * partly initialized streams) against a model of its runs: random run lists with small
 * gaps (another file's clusters between), adjacent runs, runs far apart or backwards,
 * and sparse runs, read in random chunks. Every byte equals the model's; sparse runs are
 * never read from the image; every read the stream makes is either one stored run's piece
 * or a span obeying the gap rule (io/read-spans.ts), so the bytes read over stay below
 * the bytes wanted and no read is larger than a span or a piece.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeRunList, encodeDataRuns, type DataRun } from '../src/engine/ntfs/data-runs.js';
import { openStream } from '../src/engine/ntfs/stream-reader.js';
import type { DecodedAttribute } from '../src/engine/ntfs/record-decoder.js';
import { MemoryBlockSource } from '../src/io/block-source.js';
import { SPAN_MAX_BYTES, SPAN_MAX_GAP } from '../src/io/read-spans.js';

const CLUSTER = 4096;
const CLUSTERS = 4096; // a 16 MiB volume
const image = new Uint8Array(CLUSTERS * CLUSTER);
for (let i = 0; i < image.length; i += 4) {
  const x = Math.imul(i + 1, 2654435761) >>> 0;
  image[i] = x & 0xff;
  image[i + 1] = (x >>> 8) & 0xff;
  image[i + 2] = (x >>> 16) & 0xff;
  image[i + 3] = x >>> 24;
}

function attribute(runs: DataRun[], dataSize: number, initializedSize: number): DecodedAttribute {
  const bytes = encodeDataRuns(runs);
  const end = runs.at(-1)!.vcn + runs.at(-1)!.length;
  return {
    type: 0x80, name: '', flags: 0, id: 0, nonResident: true, startVcn: 0, lastVcn: end - 1,
    runList: decodeRunList(bytes, 0, bytes.length, 0, CLUSTERS), dataSize, allocatedSize: end * CLUSTER, initializedSize, compressionUnit: 0,
  };
}

/** Runs placed one after another with gaps in clusters of the kinds that matter; some sparse. */
const runsArb = fc
  .tuple(
    fc.integer({ min: 0, max: CLUSTERS / 2 }),
    fc.array(
      fc.tuple(
        fc.oneof(fc.constant(0), fc.constant(1), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 15, max: 17 }), fc.integer({ min: 20, max: 400 }), fc.integer({ min: -300, max: -1 })),
        fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 60, max: 70 })),
        fc.integer({ min: 0, max: 5 }),
      ),
      { minLength: 1, maxLength: 80 },
    ),
  )
  .map(([start, steps]) => {
    const runs: DataRun[] = [];
    let vcn = 0;
    let lcn = start;
    for (const [gap, length, kind] of steps) {
      if (kind === 0) runs.push({ vcn, lcn: null, length });
      else {
        const at = Math.min(Math.max(0, lcn + gap), CLUSTERS - length);
        runs.push({ vcn, lcn: at, length });
        lcn = at + length;
      }
      vcn += length;
    }
    return runs;
  });

/** The model: the stream's bytes from its runs (sparse and uninitialized bytes zero). */
function model(runs: readonly DataRun[], size: number, initialized: number): Uint8Array {
  const out = new Uint8Array(size);
  for (const r of runs) {
    if (r.lcn === null) continue;
    const from = r.vcn * CLUSTER;
    if (from >= size) break;
    const n = Math.min(r.length * CLUSTER, size - from);
    out.set(image.subarray(r.lcn * CLUSTER, r.lcn * CLUSTER + n), from);
  }
  out.fill(0, initialized);
  return out;
}

describe('a fragmented stream read through openStream: spans, sparse runs, initialized size', () => {
  it('reads every byte as the model says; reads only stored clusters, in spans obeying the gap rule', () => {
    fc.assert(
      fc.property(runsArb, fc.integer({ min: 0, max: CLUSTER - 1 }), fc.double({ min: 0.3, max: 1, noNaN: true }), fc.array(fc.integer({ min: 1, max: 600_000 }), { minLength: 1, maxLength: 6 }), (runs, tail, initFraction, chunkSizes) => {
        const end = runs.at(-1)!.vcn + runs.at(-1)!.length;
        const size = Math.max(1, end * CLUSTER - tail);
        const initialized = Math.floor(size * initFraction);
        const source = new MemoryBlockSource(image);
        const reads: [number, number][] = [];
        const readAt = source.readAt.bind(source);
        source.readAt = (buf, offset, length, position) => {
          reads.push([position, length]);
          readAt(buf, offset, length, position);
        };
        const stream = openStream({ source, clusterSize: CLUSTER, clusterCount: CLUSTERS }, [attribute(runs, size, initialized)]);
        const want = model(runs, size, initialized);
        const got = new Uint8Array(size).fill(0xa5);
        let at = 0;
        for (let c = 0; at < size; c++) {
          const n = Math.min(chunkSizes[c % chunkSizes.length]!, size - at);
          const chunk = new Uint8Array(n).fill(0x5a);
          stream.read(chunk, n, at);
          got.set(chunk, at);
          at += n;
        }
        expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true);
        // Every read: its bytes lie in stored runs except for gaps, each at most SPAN_MAX_GAP,
        // adding up to no more than the stored bytes it reads; larger than a span only when it is one run's piece.
        const stored = runs.filter((r) => r.lcn !== null).map((r) => [r.lcn! * CLUSTER, (r.lcn! + r.length) * CLUSTER] as const);
        for (const [position, length] of reads) {
          const inside = stored.filter(([a, b]) => a < position + length && b > position).map(([a, b]) => [Math.max(a, position), Math.min(b, position + length)] as const);
          inside.sort((x, y) => x[0] - y[0]);
          expect(inside.length, `read at ${position}`).toBeGreaterThan(0);
          let covered = 0;
          let reach = position;
          for (const [a, b] of inside) {
            if (a > reach) expect(a - reach, `gap in the read at ${position}`).toBeLessThanOrEqual(SPAN_MAX_GAP);
            covered += Math.max(0, b - Math.max(a, reach));
            reach = Math.max(reach, b);
          }
          expect(reach).toBe(position + length);
          expect(inside[0]![0]).toBe(position);
          expect(length - covered).toBeLessThanOrEqual(covered);
          if (length > SPAN_MAX_BYTES) expect(stored.some(([a, b]) => a <= position && position + length <= b), `a ${length}-byte read is one run's piece`).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('runs interleaved with another file (one-cluster gaps) read in few calls; sparse ranges in none', () => {
    // Runs of two clusters with one cluster of another file between them; every tenth run sparse.
    const runs: DataRun[] = [];
    for (let i = 0; i < 300; i++) runs.push(i % 10 === 9 ? { vcn: 2 * i, lcn: null, length: 2 } : { vcn: 2 * i, lcn: 100 + 3 * i, length: 2 });
    const size = 600 * CLUSTER;
    const source = new MemoryBlockSource(image);
    // initialized below the size: the stream is not raw, so it is read through readRuns
    const stream = openStream({ source, clusterSize: CLUSTER, clusterCount: CLUSTERS }, [attribute(runs, size, size - 1)]);
    const out = new Uint8Array(size);
    stream.read(out, size, 0);
    expect(Buffer.from(out).equals(Buffer.from(model(runs, size, size - 1)))).toBe(true);
    // 270 stored runs: a span of 256 KiB (64 clusters) holds 21 of them and the holes between.
    expect(source.counters.readCalls).toBeLessThanOrEqual(Math.ceil(270 / 16));
    const before = source.counters.readCalls;
    stream.read(out, 2 * CLUSTER, 18 * CLUSTER);
    expect(source.counters.readCalls).toBe(before);
  });
});
