/**
 * Run lists decoded into typed arrays (decodeRunList) and read through a stream: agree
 * with a model list and with hand-decoded bytes, reject hostile lists with E_BAD_RECORD
 * without allocating by what they claim, and read sparse runs as zeros without reading
 * the image.
 */
import { describe, expect, it } from 'vitest';
import { decodeDataRuns, decodeRunList, encodeDataRuns, MAX_RUNS, type DataRun } from '../src/engine/ntfs/data-runs.js';
import { openStream } from '../src/engine/ntfs/stream-reader.js';
import type { DecodedAttribute } from '../src/engine/ntfs/record-decoder.js';
import { MemoryBlockSource } from '../src/io/block-source.js';
import { DiskkitError, ErrorCode } from '../src/engine/errors.js';
import { seededRandom } from '../src/engine/seeded-random.js';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (error) {
    return error instanceof DiskkitError ? error.code : 'not a DiskkitError';
  }
  return undefined;
}

/** A model run list: lengths 1..40 clusters, about one run in five sparse, LCNs anywhere below `clusters`. */
function modelRuns(random: () => number, count: number, clusters: number): DataRun[] {
  const runs: DataRun[] = [];
  let vcn = 0;
  for (let i = 0; i < count; i++) {
    const length = 1 + Math.floor(random() * 40);
    const lcn = random() < 0.2 ? null : Math.floor(random() * (clusters - length));
    runs.push({ vcn, lcn, length });
    vcn += length;
  }
  return runs;
}

describe('decodeRunList', () => {
  it('decodes hand-written runs: a positive LCN, a negative delta, a sparse run', () => {
    // 31: 1-byte length 8, 3-byte LCN 0x001000; 11: length 4, delta -16 (0xf0); 01: sparse, length 16
    const bytes = Uint8Array.from([0x31, 0x08, 0x00, 0x10, 0x00, 0x11, 0x04, 0xf0, 0x01, 0x10, 0x00]);
    const list = decodeRunList(bytes, 0, bytes.length, 0, 10_000);
    expect(list.count).toBe(3);
    expect([...list.vcn]).toEqual([0, 8, 12, 28]);
    expect([...list.lcn]).toEqual([4096, 4080, -1]);
    expect(list.sparse).toBe(true);
  });

  it('agrees with a model of 3,000 runs (as encoded the way mkntfs and ntfs-3g write them)', () => {
    const random = seededRandom(3000);
    const runs = modelRuns(random, 3000, 1 << 30);
    const bytes = encodeDataRuns(runs);
    const list = decodeRunList(bytes, 0, bytes.length, 0, 1 << 30);
    expect(list.count).toBe(runs.length);
    for (let i = 0; i < runs.length; i++) {
      expect(list.vcn[i]).toBe(runs[i]!.vcn);
      expect(list.lcn[i]).toBe(runs[i]!.lcn ?? -1);
    }
    expect(list.vcn[runs.length]).toBe(runs.at(-1)!.vcn + runs.at(-1)!.length);
    expect(list.sparse).toBe(runs.some((r) => r.lcn === null));
    expect(decodeDataRuns(bytes, 0, bytes.length, 0, 1 << 30)).toEqual(runs);
  });

  it('starts at the given VCN (a piece in an extension record)', () => {
    const bytes = encodeDataRuns([{ vcn: 0, lcn: 50, length: 3 }]);
    const list = decodeRunList(bytes, 0, bytes.length, 700);
    expect([...list.vcn]).toEqual([700, 703]);
  });

  it('rejects hostile lists with E_BAD_RECORD', () => {
    const bad = (bytes: number[], clusters = Infinity) => codeOf(() => decodeRunList(Uint8Array.from(bytes), 0, bytes.length, 0, clusters));
    expect(bad([0x11, 0x04, 0x10])).toBe(ErrorCode.BAD_RECORD); // no terminating zero
    expect(bad([0x21, 0x04, 0x10])).toBe(ErrorCode.BAD_RECORD); // the LCN field overflows the attribute
    expect(bad([0x11, 0x00, 0x10, 0x00])).toBe(ErrorCode.BAD_RECORD); // zero length
    expect(bad([0x09, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0])).toBe(ErrorCode.BAD_RECORD); // a 9-byte field
    expect(bad([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00])).toBe(ErrorCode.BAD_RECORD); // a length past 2^53
    expect(bad([0x11, 0x04, 0x80, 0x00])).toBe(ErrorCode.BAD_RECORD); // LCN below 0
    expect(bad([0x21, 0x04, 0x00, 0x10, 0x00], 4000)).toBe(ErrorCode.BAD_RECORD); // past the volume
    // Two sparse runs of 2^52 clusters each: virtual clusters past 2^53
    expect(bad([0x07, 0, 0, 0, 0, 0, 0, 0x10, 0x07, 0, 0, 0, 0, 0, 0, 0x10, 0x00])).toBe(ErrorCode.BAD_RECORD);
  });

  it('stops at MAX_RUNS runs, and sizes its arrays by the bytes, not by what the runs claim', () => {
    const many = new Uint8Array(2 * (MAX_RUNS + 1) + 1);
    for (let i = 0; i < MAX_RUNS + 1; i++) many.set([0x01, 0x01], 2 * i);
    expect(codeOf(() => decodeRunList(many, 0, many.length))).toBe(ErrorCode.BAD_RECORD);
    const exactly = many.slice(0, 2 * MAX_RUNS + 1);
    exactly[2 * MAX_RUNS] = 0;
    expect(decodeRunList(exactly, 0, exactly.length).count).toBe(MAX_RUNS);
    // 4 bytes claiming 2^40 clusters: the arrays hold what 4 bytes can describe.
    const huge = decodeRunList(Uint8Array.from([0x06, 0, 0, 0, 0, 0, 0x01, 0x00]), 0, 8);
    expect(huge.vcn[1]).toBe(2 ** 40);
    expect(huge.vcn.buffer.byteLength + huge.lcn.buffer.byteLength).toBeLessThanOrEqual(16 * 8);
  });
});

function nonResident(runs: DataRun[], startVcn: number, dataSize: number, clusterCount: number): DecodedAttribute {
  const bytes = encodeDataRuns(runs.map((r) => ({ ...r, vcn: r.vcn - startVcn })));
  return {
    type: 0x80, name: '', flags: 0, id: 0, nonResident: true, startVcn, lastVcn: runs.at(-1)!.vcn + runs.at(-1)!.length - 1,
    runList: decodeRunList(bytes, 0, bytes.length, startVcn, clusterCount), dataSize, allocatedSize: dataSize, initializedSize: dataSize, compressionUnit: 0,
  };
}

describe('a stream over a decoded run list', () => {
  const clusterSize = 512;
  const clusters = 64;
  const image = new Uint8Array(clusters * clusterSize);
  for (let i = 0; i < image.length; i++) image[i] = (i * 7 + (i >> 9)) & 0xff;

  it('reads runs split across pieces in place, sparse runs as zeros, equal to a model of the runs', () => {
    const random = seededRandom(77);
    const runs = modelRuns(random, 60, clusters).map((r) => ({ ...r, length: Math.min(r.length, 4) }));
    let vcn = 0;
    for (const r of runs) {
      r.vcn = vcn;
      vcn += r.length;
    }
    const size = vcn * clusterSize - 100;
    // Three pieces, as in extension records.
    const cut1 = 20;
    const cut2 = 41;
    const pieces = [runs.slice(0, cut1), runs.slice(cut1, cut2), runs.slice(cut2)].map((p) => nonResident(p, p[0]!.vcn, size, clusters));
    const expected = new Uint8Array(vcn * clusterSize);
    for (const r of runs) if (r.lcn !== null) expected.set(image.subarray(r.lcn * clusterSize, (r.lcn + r.length) * clusterSize), r.vcn * clusterSize);
    const source = new MemoryBlockSource(image);
    const stream = openStream({ source, clusterSize, clusterCount: clusters }, pieces);
    expect(stream.raw).toBe(!runs.some((r) => r.lcn === null));
    const out = new Uint8Array(size);
    stream.read(out, size, 0);
    expect(Buffer.from(out).equals(Buffer.from(expected.subarray(0, size)))).toBe(true);
    // One read call per stored run at most: sparse runs never touch the source.
    expect(source.counters.readCalls).toBeLessThanOrEqual(runs.filter((r) => r.lcn !== null).length);
  });

  it('a fully sparse stream reads as zeros without reading the image', () => {
    const source = new MemoryBlockSource(image);
    const stream = openStream({ source, clusterSize, clusterCount: clusters }, [nonResident([{ vcn: 0, lcn: null, length: 1000 }], 0, 1000 * clusterSize, clusters)]);
    const out = new Uint8Array(1000 * clusterSize).fill(0xaa);
    stream.read(out, out.length, 0);
    expect(out.every((b) => b === 0)).toBe(true);
    expect(source.counters.readCalls).toBe(0);
  });

  it('pieces that overlap or leave a gap in VCN order are corrupt, not read', () => {
    const source = new MemoryBlockSource(image);
    const a = nonResident([{ vcn: 0, lcn: 1, length: 4 }], 0, 8 * clusterSize, clusters);
    const overlapping = nonResident([{ vcn: 2, lcn: 9, length: 6 }], 2, 8 * clusterSize, clusters);
    const gap = nonResident([{ vcn: 5, lcn: 9, length: 3 }], 5, 8 * clusterSize, clusters);
    expect(codeOf(() => openStream({ source, clusterSize, clusterCount: clusters }, [a, overlapping]))).toBe(ErrorCode.CORRUPT);
    expect(codeOf(() => openStream({ source, clusterSize, clusterCount: clusters }, [a, gap]))).toBe(ErrorCode.CORRUPT);
    expect(source.counters.readCalls).toBe(0);
  });

  it('a size past what the runs cover is E_CORRUPT when the stream is opened, not zeros or a crash', () => {
    const source = new MemoryBlockSource(image);
    expect(codeOf(() => openStream({ source, clusterSize, clusterCount: clusters }, [nonResident([{ vcn: 0, lcn: 3, length: 2 }], 0, 2 ** 40, clusters)]))).toBe(ErrorCode.CORRUPT);
    expect(source.counters.readCalls).toBe(0);
  });
});
