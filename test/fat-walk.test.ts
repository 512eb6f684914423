/**
 * Volume.walk on FAT (directory-walk.ts) must report exactly what the list-based walk
 * reports (Volume.list over parseDirectory, the independent path): the same entries
 * with the same names, sizes, times and flags, the same errors, the same warnings —
 * on the committed fixture, on directories holding long, non-ASCII and lower-case
 * names, and on copies of the fixture with random damage to their directory slots.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { MemoryBlockSource } from '../src/io/block-source.js';
import { FatVolume } from '../src/engine/fat/volume.js';
import { decodeBootSector } from '../src/engine/fat/boot-sector.js';
import { Attr, DIR_ENTRY_SIZE, encodeDirEntry, encodeRawName, type DirEntry } from '../src/engine/fat/dir-entry.js';
import { encodeLongNameSlots } from '../src/engine/fat/long-name.js';
import { parseDirectory } from '../src/engine/fat/directory.js';
import { FastListing, scanDirectoryFast } from '../src/engine/fat/directory-walk.js';
import { walkWithList } from '../src/engine/walk.js';
import type { Volume, WalkOptions } from '../src/engine/volume.js';
import { isDiskkitError } from '../src/engine/errors.js';

const FAT12 = readFileSync(fileURLToPath(new URL('../fixtures/fat12.img', import.meta.url)));

type Event = unknown[];

/** Every callback of a walk as data; descends into every live directory, like ls -aR. */
function record(volume: Volume, walk: (v: Volume, options: WalkOptions, visitor: Parameters<typeof walkWithList>[3]) => void, options: WalkOptions): Event[] {
  const events: Event[] = [];
  walk(volume, options, {
    directory: (path, depth) => void events.push(['dir', path, depth]),
    entry: (e) => {
      events.push(['entry', e.parent, e.name, e.shortName, e.type, e.size, e.mtimeMs, [...e.attributes], e.deleted]);
      return e.type === 'dir' && e.name !== '.' && e.name !== '..';
    },
    error: (path, depth, error) => void events.push(['error', path, depth, isDiskkitError(error) ? error.code : String(error)]),
  });
  return events;
}

function fresh(image: Uint8Array): FatVolume {
  return FatVolume.open(new MemoryBlockSource(Uint8Array.from(image)));
}

const viaWalk = (v: Volume, o: WalkOptions, visitor: Parameters<typeof walkWithList>[3]) => v.walk!('/', o, visitor);
const viaList = (v: Volume, o: WalkOptions, visitor: Parameters<typeof walkWithList>[3]) => walkWithList(v, '/', o, visitor);

const OPTIONS: WalkOptions[] = [
  { recursive: true },
  { recursive: true, dotEntries: true },
  { recursive: true, deleted: true },
  { recursive: true, deleted: true, dotEntries: true },
  { recursive: false },
];

function expectSameWalks(image: Uint8Array): void {
  for (const options of OPTIONS) {
    const a = fresh(image);
    const b = fresh(image);
    expect(record(a, viaWalk, options)).toEqual(record(b, viaList, options));
    expect(a.warnings).toEqual(b.warnings);
  }
}

/** Byte ranges of the fixture's directories: the fixed root and every cluster starting with a "." entry. */
function directoryRegions(image: Uint8Array): [number, number][] {
  const boot = decodeBootSector(image.subarray(0, 512), image.length);
  const regions: [number, number][] = [[boot.rootDirSector * boot.bytesPerSector, boot.rootDirSectors * boot.bytesPerSector]];
  const data = boot.firstDataSector * boot.bytesPerSector;
  for (let c = 0; c < boot.clusterCount; c++) {
    const at = data + c * boot.bytesPerCluster;
    if (at + boot.bytesPerCluster > image.length) break;
    if (image[at] === 0x2e && image[at + 1] === 0x20 && image[at + 11]! & Attr.DIRECTORY) regions.push([at, boot.bytesPerCluster]);
  }
  return regions;
}

describe('Volume.walk on FAT reports what the list-based walk reports', () => {
  it('on the committed FAT12 fixture (long, non-ASCII and 8.3 names, deep directories, deleted files)', () => {
    const a = fresh(FAT12);
    const events = record(a, viaWalk, { recursive: true, deleted: true });
    // not vacuous: the fixture has long names, deleted entries and nested directories
    expect(events.filter((e) => e[0] === 'entry' && e[8] === true).length).toBeGreaterThan(0);
    expect(events.filter((e) => e[0] === 'dir').length).toBeGreaterThan(3);
    expect(events.some((e) => e[0] === 'entry' && e[2] !== e[3])).toBe(true);
    expectSameWalks(FAT12);
  });

  it('on copies of the fixture with random damage to directory slots (names, attributes, sequence, checksum, start cluster)', () => {
    const regions = directoryRegions(FAT12);
    const mutation = fc.record({
      region: fc.nat({ max: regions.length - 1 }),
      slot: fc.nat({ max: 40 }),
      offset: fc.nat({ max: 31 }),
      value: fc.oneof(fc.constantFrom(0x00, 0xe5, 0x0f, 0x2e, 0x41, 0x05, 0xd8, 0xdc, 0xff), fc.nat({ max: 255 })),
    });
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 6 }), (mutations) => {
        const image = Uint8Array.from(FAT12);
        for (const m of mutations) {
          const [start, length] = regions[m.region]!;
          const at = start + ((m.slot * DIR_ENTRY_SIZE) % length) + m.offset;
          image[at] = m.value;
        }
        expectSameWalks(image);
      }),
      { numRuns: 150, seed: 20241123 },
    );
  });
});

describe('the fast directory scanner', () => {
  const when = { createTimeTenth: 0, createTime: 0, createDate: 0x5821, accessDate: 0x5821, writeTime: 0x1843, writeDate: 0x5821 };
  function entry(raw: string, attributes: number, ntFlags = 0): DirEntry {
    return { rawName: encodeRawName(raw), attributes, ntFlags, ...when, startCluster: 5, fileSize: 1234 };
  }
  function directory(items: { long?: string; raw: string; attributes?: number; ntFlags?: number }[], breakChecksumOf = -1): Uint8Array {
    const slots: Uint8Array[] = [];
    items.forEach((item, i) => {
      const e = entry(item.raw, item.attributes ?? Attr.ARCHIVE, item.ntFlags);
      if (item.long !== undefined) {
        const lfn = encodeLongNameSlots(item.long, e.rawName);
        if (i === breakChecksumOf) lfn.forEach((s) => (s[13] = (s[13]! + 1) & 0xff));
        slots.push(...lfn);
      }
      const s = new Uint8Array(DIR_ENTRY_SIZE);
      encodeDirEntry(e, s, 0, 'fat32');
      slots.push(s);
    });
    const bytes = new Uint8Array((slots.length + 2) * DIR_ENTRY_SIZE);
    slots.forEach((s, i) => bytes.set(s, i * DIR_ENTRY_SIZE));
    return bytes;
  }

  it('decodes long (ASCII, accented, astral, 255-unit), NT lower-case and plain 8.3 names exactly as parseDirectory', () => {
    const bytes = directory([
      { long: 'A rather long name.data', raw: 'ARATHE~1DAT' },
      { long: 'café crème.txt', raw: 'CAFCR~1 TXT' },
      { long: 'emoji \u{1F600}\u{1F680} name', raw: 'EMOJIN~1   ' },
      { long: 'x'.repeat(255), raw: 'XXXXXX~1   ' },
      { long: 'exactly13char', raw: 'EXACTL~1   ' },
      { raw: 'README  TXT', ntFlags: 0x18 },
      { raw: 'MIXED   MD ', ntFlags: 0x08 },
      { raw: 'SUBDIR     ', attributes: Attr.DIRECTORY },
      { raw: 'NOEXT      ' },
    ]);
    const out = new FastListing();
    expect(scanDirectoryFast(bytes, false, out)).toBe(true);
    const parsed = parseDirectory(bytes, 'fat32');
    expect(out.count).toBe(parsed.records.length);
    for (let i = 0; i < out.count; i++) {
      expect(out.names[i]).toBe(parsed.records[i]!.name);
      expect(out.shortNames[i]).toBe(parsed.records[i]!.shortName);
      expect(out.offsets[i]).toBe(parsed.records[i]!.slotIndex * DIR_ENTRY_SIZE);
    }
    expect(out.names.slice(0, 3)).toEqual(['A rather long name.data', 'café crème.txt', 'emoji \u{1F600}\u{1F680} name']);
    expect(out.shortNames[5]).toBe('readme.txt');
    expect(out.shortNames[6]).toBe('mixed.MD');
  });

  it('hands a directory with a broken long name back to parseDirectory (which warns)', () => {
    const bytes = directory([{ long: 'first long name.txt', raw: 'FIRSTL~1TXT' }, { long: 'broken long name.txt', raw: 'BROKEN~1TXT' }], 1);
    expect(scanDirectoryFast(bytes, false, new FastListing())).toBe(false);
    expect(parseDirectory(bytes, 'fat32').warnings.map((w) => w.context?.problem)).toEqual(['bad-checksum']);
  });

  it('hands back orphaned long-name slots before the end marker and before a deleted entry', () => {
    const orphan = directory([{ long: 'orphaned long name', raw: 'ORPHAN~1   ' }]);
    orphan.fill(0, 2 * DIR_ENTRY_SIZE, 3 * DIR_ENTRY_SIZE); // the short entry becomes the end marker
    expect(scanDirectoryFast(orphan, false, new FastListing())).toBe(false);
    const deleted = directory([{ long: 'orphaned long name', raw: 'ORPHAN~1   ' }]);
    deleted[2 * DIR_ENTRY_SIZE] = 0xe5;
    expect(scanDirectoryFast(deleted, false, new FastListing())).toBe(false);
    // a run cut short by the start of another run: the second name is valid, the first run is an orphan
    const second = directory([{ long: 'second name.txt', raw: 'SECOND~1TXT' }]);
    const cut = new Uint8Array(second.length + DIR_ENTRY_SIZE);
    cut.set(encodeLongNameSlots('orphaned long name', encodeRawName('ORPHAN~1   '))[0]!, 0);
    cut.set(second, DIR_ENTRY_SIZE);
    expect(parseDirectory(cut, 'fat32').warnings.map((w) => w.context?.problem)).toEqual(['orphan-slots']);
    expect(scanDirectoryFast(cut, false, new FastListing())).toBe(false);
  });
});
