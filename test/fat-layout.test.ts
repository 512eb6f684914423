/**
 * Properties of planFatLayout and formatFat for any size and options: a layout is
 * either refused with E_USAGE or is a valid FAT volume whose type follows from its
 * cluster count, whose FATs cover every cluster, and whose boot sector decodes back
 * to the same geometry. (Agreement with mkfs.fat itself is checked in mkfs.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { planFatLayout, type FatLayout } from '../src/engine/fat/layout.js';
import { formatFat } from '../src/engine/fat/mkfs.js';
import { decodeBootSector, fatTypeForClusterCount } from '../src/engine/fat/boot-sector.js';
import { decodeFsInfo } from '../src/engine/fat/fsinfo.js';
import { readFatValue } from '../src/engine/fat/fat-entry.js';
import { DiskkitError } from '../src/engine/errors.js';
import { newIoCounters, type BlockSource } from '../src/io/block-source.js';

/** A huge all-zero target that keeps only the sectors written to it. */
function sparseTarget(size: number): BlockSource & { written: Map<number, Uint8Array> } {
  const written = new Map<number, Uint8Array>();
  return {
    name: 'sparse',
    kind: 'memory',
    size,
    writable: true,
    counters: newIoCounters(),
    fd: undefined,
    baseOffset: 0,
    written,
    readAt(buf, offset, length, position) {
      buf.fill(0, offset, offset + length);
      for (const [at, bytes] of written) {
        const from = Math.max(at, position);
        const to = Math.min(at + bytes.length, position + length);
        if (from < to) buf.set(bytes.subarray(from - at, to - at), offset + from - position);
      }
    },
    writeAt(buf, offset, length, position) {
      expect(position + length).toBeLessThanOrEqual(size);
      written.set(position, buf.slice(offset, offset + length));
      this.counters.writeCalls++;
      this.counters.bytesWritten += length;
    },
    sync() {},
    close() {},
  };
}

function read(target: BlockSource, position: number, length: number): Uint8Array {
  const buf = new Uint8Array(length);
  target.readAt(buf, 0, length, position);
  return buf;
}

const request = fc.record({
  volumeBytes: fc.oneof(fc.integer({ min: 16 * 1024, max: 64 * 2 ** 20 }), fc.integer({ min: 64 * 2 ** 20, max: 2 ** 42 })),
  bytesPerSector: fc.constantFrom(512, 1024, 2048, 4096),
  fatType: fc.constantFrom(undefined, 'fat12' as const, 'fat16' as const, 'fat32' as const),
  bytesPerCluster: fc.constantFrom(undefined, 512, 1024, 4096, 32768, 65536),
  numberOfFats: fc.constantFrom(1, 2),
});

describe('planFatLayout', () => {
  it('either refuses with E_USAGE or gives a layout that is a valid FAT volume of the chosen type', () => {
    fc.assert(
      fc.property(request, (req) => {
        let layout: FatLayout;
        try {
          layout = planFatLayout(req);
        } catch (error) {
          expect(error).toBeInstanceOf(DiskkitError);
          expect((error as DiskkitError).code).toBe('E_USAGE');
          expect((error as DiskkitError).message.length).toBeGreaterThan(10);
          return;
        }
        expect(fatTypeForClusterCount(layout.clusterCount)).toBe(layout.fatType);
        if (req.fatType) expect(layout.fatType).toBe(req.fatType);
        if (req.bytesPerCluster) expect(layout.bytesPerCluster).toBe(req.bytesPerCluster);
        expect(layout.bytesPerCluster).toBeLessThanOrEqual(65536);
        expect(layout.totalSectors * layout.bytesPerSector).toBeLessThanOrEqual(req.volumeBytes);
        expect(layout.totalSectors % layout.sectorsPerTrack).toBe(0);
        expect(layout.firstDataSector + layout.clusterCount * layout.sectorsPerCluster).toBeLessThanOrEqual(layout.totalSectors);
        // Not one more whole cluster would have fitted.
        expect(layout.firstDataSector + (layout.clusterCount + 1) * layout.sectorsPerCluster).toBeGreaterThan(layout.totalSectors);
        const bits = layout.fatType === 'fat12' ? 12 : layout.fatType === 'fat16' ? 16 : 32;
        expect(layout.sectorsPerFat * layout.bytesPerSector * 8).toBeGreaterThanOrEqual((layout.clusterCount + 2) * bits);
        if (layout.aligned) expect(layout.firstDataSector % layout.sectorsPerCluster).toBe(0);
        if (layout.fatType === 'fat16') expect(layout.clusterCount).toBeGreaterThanOrEqual(4087);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('formatFat on a fresh target', () => {
  it('writes a boot sector that decodes to the layout, FAT entries 0 and 1 (and the FAT32 root chain), and FSInfo', () => {
    fc.assert(
      fc.property(request, fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(null, 'DATA', 'A B_1'), (req, volumeId, label) => {
        let layout: FatLayout;
        try {
          layout = planFatLayout(req);
        } catch {
          return;
        }
        const target = sparseTarget(req.volumeBytes);
        const result = formatFat(target, { layout, label, volumeId, timestamp: new Date(Date.UTC(2024, 1, 29, 12, 34, 56)), utc: true, hiddenSectors: 0, fresh: true });
        // Only a handful of sectors, whatever the size.
        expect(result.writeCalls).toBeLessThanOrEqual(layout.numberOfFats + 2);
        const ss = layout.bytesPerSector;
        const boot = decodeBootSector(read(target, 0, ss), req.volumeBytes);
        expect([boot.fatType, boot.clusterCount, boot.firstDataSector, boot.sectorsPerFat, boot.totalSectors, boot.volumeId, boot.volumeLabel]).toEqual([
          layout.fatType, layout.clusterCount, layout.firstDataSector, layout.sectorsPerFat, layout.totalSectors, volumeId, label,
        ]);
        for (let copy = 0; copy < layout.numberOfFats; copy++) {
          const fat = read(target, (layout.reservedSectors + copy * layout.sectorsPerFat) * ss, 16);
          const mask = layout.fatType === 'fat12' ? 0xfff : layout.fatType === 'fat16' ? 0xffff : 0x0fffffff;
          expect(readFatValue(fat, layout.fatType, 0)).toBe((mask & ~0xff) | layout.media);
          expect(readFatValue(fat, layout.fatType, 1)).toBe(mask);
          if (layout.fatType === 'fat32') expect(readFatValue(fat, 'fat32', 2)).toBeGreaterThanOrEqual(0x0ffffff8);
          else expect(readFatValue(fat, layout.fatType, 2)).toBe(0);
        }
        if (layout.fatType === 'fat32') {
          const info = decodeFsInfo(read(target, ss, ss), layout.clusterCount);
          expect([info.valid, info.freeCount]).toEqual([true, layout.clusterCount - 1]);
          expect(read(target, 6 * ss, ss)).toEqual(read(target, 0, ss));
        }
        const rootAt = (layout.fatType === 'fat32' ? layout.firstDataSector : layout.rootDirSector) * ss;
        const entry = read(target, rootAt, 32);
        if (label === null) expect(entry[0]).toBe(0);
        else {
          expect(Buffer.from(entry.subarray(0, 11)).toString('latin1')).toBe(label.padEnd(11));
          expect(entry[11]).toBe(0x08);
          expect(Buffer.from(entry).readUInt16LE(24)).toBe(((2024 - 1980) << 9) | (2 << 5) | 29);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('zeroes the old metadata area when formatting in place, and leaves the data region alone', () => {
    const layout = planFatLayout({ volumeBytes: 8 * 2 ** 20 });
    const bytes = new Uint8Array(8 * 2 ** 20).fill(0xa5);
    const target = { ...sparseTarget(bytes.length) };
    const mem: BlockSource = {
      ...target,
      readAt: (buf, offset, length, position) => buf.set(bytes.subarray(position, position + length), offset),
      writeAt: (buf, offset, length, position) => {
        bytes.set(buf.subarray(offset, offset + length), position);
      },
    };
    formatFat(mem, { layout, label: null, volumeId: 1, timestamp: new Date(0), utc: true, hiddenSectors: 0, fresh: false });
    const isZero = (from: number, to: number) => bytes.subarray(from, to).every((b) => b === 0);
    expect(isZero(512, layout.reservedSectors * 512)).toBe(true);
    for (let copy = 0; copy < layout.numberOfFats; copy++) {
      const start = (layout.reservedSectors + copy * layout.sectorsPerFat) * 512;
      expect(isZero(start + 4, start + layout.sectorsPerFat * 512)).toBe(true); // past entries 0 and 1
    }
    expect(isZero(layout.rootDirSector * 512, layout.firstDataSector * 512)).toBe(true);
    expect(bytes.subarray(layout.firstDataSector * 512).every((b) => b === 0xa5)).toBe(true);
  });
});
