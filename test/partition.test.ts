/**
 * Partition tables written by sfdisk, sgdisk and fdisk, read back and compared with
 * what sfdisk itself reports (`sfdisk -J`), then damaged on purpose.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync, closeSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import { FileBlockSource, MemoryBlockSource } from '../src/io/block-source.js';
import {
  decodeGuid,
  decodeMbr,
  emptyMbrEntry,
  encodeGptEntry,
  encodeGptHeader,
  encodeGuid,
  encodeMbr,
  readPartitionTable,
  type GptHeader,
  type PartitionTable,
} from '../src/engine/partition/index.js';
import { DiskkitError, isDiskkitError } from '../src/engine/errors.js';
import { requireTools } from './helpers/oracle.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'diskkit-partition-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sparseImage(name: string, bytes: number): string {
  const path = join(dir, name);
  rmSync(path, { force: true });
  closeSync(openSync(path, 'w'));
  truncateSync(path, bytes);
  return path;
}

function sfdiskScript(path: string, script: string): void {
  execFileSync('sfdisk', ['-q', '--no-reread', '--no-tell-kernel', path], { input: script, stdio: ['pipe', 'ignore', 'pipe'] });
}

interface SfdiskJson {
  partitiontable: {
    label: string;
    id: string;
    sectorsize: number;
    partitions: { node: string; start: number; size: number; type: string; uuid?: string; name?: string; bootable?: boolean }[];
  };
}

function sfdiskJson(path: string): SfdiskJson['partitiontable'] {
  return (JSON.parse(execFileSync('sfdisk', ['-J', path], { encoding: 'utf8' })) as SfdiskJson).partitiontable;
}

function readTable(path: string): PartitionTable {
  const source = FileBlockSource.open(path);
  try {
    return readPartitionTable(source);
  } finally {
    source.close();
  }
}

function patch(path: string, position: number, bytes: Uint8Array): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, position);
  } finally {
    closeSync(fd);
  }
}

const MiB = 1024 * 1024;
const hasSfdisk = requireTools('sfdisk');
const hasSgdisk = requireTools('sgdisk', 'sfdisk');
const hasFdisk = requireTools('fdisk');

describe('MBR tables made by sfdisk', () => {
  // Primaries 1, 2; extended 3 holding logicals 5 and 6; slot 4 empty.
  const script = [
    'label: dos',
    'start=2048, size=8192, type=e, bootable',
    'start=10240, size=4096, type=83',
    'start=16384, size=40000, type=5',
    'start=18432, size=4096, type=c',
    'start=24576, size=4096, type=7',
    '',
  ].join('\n');

  it.runIf(hasSfdisk)('lists primaries by slot and logicals from 5, as sfdisk numbers them', () => {
    const path = sparseImage('mbr.img', 64 * MiB);
    sfdiskScript(path, script);
    const table = readTable(path);
    const oracle = sfdiskJson(path);
    expect(table.scheme).toBe('mbr');
    expect(table.diskId).toBe(oracle.id.replace(/^0x/, ''));
    expect(table.warnings).toEqual([]);
    // sfdisk lists the extended container too; diskkit lists only partitions that can hold data.
    const expected = oracle.partitions
      .filter((p) => !['5', 'f', '85'].includes(p.type))
      .map((p) => ({
        index: Number(p.node.replace(/^.*img/, '')),
        start: p.start * 512,
        size: p.size * 512,
        typeCode: `0x${p.type.padStart(2, '0')}`,
        bootable: p.bootable === true,
      }));
    expect(table.partitions.map(({ index, start, size, typeCode, bootable }) => ({ index, start, size, typeCode, bootable }))).toEqual(expected);
    expect(table.partitions.map((p) => p.kind)).toEqual(['primary', 'primary', 'logical', 'logical']);
    expect(table.partitions.map((p) => p.type)).toEqual(['FAT16 (LBA)', 'Linux', 'FAT32 (LBA)', 'NTFS/exFAT']);
  });

  it.runIf(hasSfdisk)('stops an EBR chain that loops back on itself with a warning and keeps the logicals before it', () => {
    const path = sparseImage('ebr-loop.img', 64 * MiB);
    sfdiskScript(path, script);
    const good = readTable(path);
    // The second EBR (the one describing logical 6) sits at sector 24576 - 2048 = 22528 by sfdisk's default
    // alignment gap; find it from the first EBR's link instead of assuming.
    const buf = readFileSync(path);
    const firstEbr = decodeMbr(buf.subarray(16384 * 512, 16385 * 512))!;
    const secondEbrLba = 16384 + firstEbr.entries[1]!.lbaStart;
    const second = decodeMbr(buf.subarray(secondEbrLba * 512, (secondEbrLba + 1) * 512))!;
    // Link the second EBR back to the first (offset 0 from the extended start).
    second.entries[1] = { ...emptyMbrEntry(), type: 0x05, lbaStart: 0, sectorCount: 2048 };
    const sector = Uint8Array.from(buf.subarray(secondEbrLba * 512, (secondEbrLba + 1) * 512));
    encodeMbr(second, sector);
    patch(path, secondEbrLba * 512, sector);

    const table = readTable(path);
    expect(table.partitions).toEqual(good.partitions);
    expect(table.warnings).toHaveLength(1);
    expect(table.warnings[0]!.message).toMatch(/loops/);
  });

  it('bounds a self-referencing EBR built in memory', () => {
    const disk = new Uint8Array(8 * MiB);
    const mbr = { diskSignature: 0x1234, entries: [{ ...emptyMbrEntry(), type: 0x0f, lbaStart: 2048, sectorCount: 8192 }] };
    encodeMbr(mbr, disk.subarray(0, 512));
    // EBR: a logical at +64, then a link to itself.
    const ebr = {
      diskSignature: 0,
      entries: [
        { ...emptyMbrEntry(), type: 0x06, lbaStart: 64, sectorCount: 100 },
        { ...emptyMbrEntry(), type: 0x05, lbaStart: 0, sectorCount: 8192 },
      ],
    };
    encodeMbr(ebr, disk.subarray(2048 * 512, 2049 * 512));
    const table = readPartitionTable(new MemoryBlockSource(disk));
    expect(table.partitions).toHaveLength(1);
    expect(table.partitions[0]).toMatchObject({ index: 5, start: (2048 + 64) * 512, size: 100 * 512, kind: 'logical' });
    expect(table.warnings.map((w) => w.message).join()).toMatch(/loops/);
  });

  it('does not take a sector without 55 AA, or with a bad status byte, for an MBR', () => {
    const sector = new Uint8Array(512);
    expect(decodeMbr(sector)).toBeNull();
    encodeMbr({ diskSignature: 1, entries: [{ ...emptyMbrEntry(), type: 0x0c, lbaStart: 63, sectorCount: 1000 }] }, sector);
    expect(decodeMbr(sector)).not.toBeNull();
    sector[446] = 0x12;
    expect(decodeMbr(sector)).toBeNull();
  });
});

describe('GPT tables made by sgdisk', () => {
  const name1 = 'Données é😀'; // accented letters and a character outside the BMP (a surrogate pair)

  let template: string | null = null;
  // sgdisk syncs the file it writes (about a second each): write the table once, copy it per test.
  function makeGpt(): string {
    if (template === null) {
      template = sparseImage('gpt-template.img', 64 * MiB);
      execFileSync('sgdisk', ['-n', '1:2048:+4M', '-t', '1:0700', '-c', `1:${name1}`, '-n', '3:0:+8M', '-t', '3:8300', '-c', '3:linux', template], { stdio: 'ignore' });
    }
    const path = join(dir, 'gpt.img');
    copyFileSync(template, path);
    return path;
  }

  function expectedFromSfdisk(path: string) {
    return sfdiskJson(path).partitions.map((p) => ({
      index: Number(p.node.replace(/^.*img/, '')),
      start: p.start * 512,
      size: p.size * 512,
      typeCode: p.type,
      guid: p.uuid,
      name: p.name ?? '',
    }));
  }

  const pick = (t: PartitionTable) => t.partitions.map(({ index, start, size, typeCode, guid, name }) => ({ index, start, size, typeCode, guid, name }));

  it.runIf(hasSgdisk)('reads entries, type GUIDs, unique GUIDs and UTF-16 names as sfdisk reports them', () => {
    const path = makeGpt();
    const table = readTable(path);
    expect(table.scheme).toBe('gpt');
    expect(table.header).toBe('primary');
    expect(table.diskId).toBe(sfdiskJson(path).id);
    expect(pick(table)).toEqual(expectedFromSfdisk(path));
    expect(table.partitions.map((p) => p.type)).toEqual(['Microsoft basic data', 'Linux filesystem']);
    expect(table.partitions[0]!.name).toBe(name1);
  });

  it.runIf(hasSgdisk)('falls back to the backup header when the primary header CRC is wrong', () => {
    const path = makeGpt();
    const expected = expectedFromSfdisk(path);
    patch(path, 512 + 16, Uint8Array.of(0xde, 0xad, 0xbe, 0xef)); // header CRC32 field
    const table = readTable(path);
    expect(table.header).toBe('backup');
    expect(pick(table)).toEqual(expected);
    expect(table.warnings[0]!.message).toMatch(/primary GPT header is damaged.*CRC32/);
  });

  it.runIf(hasSgdisk)('falls back to the backup entry array when the primary array CRC is wrong', () => {
    const path = makeGpt();
    const expected = expectedFromSfdisk(path);
    patch(path, 1024 + 56, Uint8Array.of(0x41, 0)); // first byte of entry 1's name, in the primary array only
    const table = readTable(path);
    expect(table.header).toBe('backup');
    expect(pick(table)).toEqual(expected);
    expect(table.warnings[0]!.message).toMatch(/entry array CRC32/);
  });

  it.runIf(hasSgdisk)('fails with E_PARTITION when both copies are damaged', () => {
    const path = makeGpt();
    patch(path, 512 + 16, Uint8Array.of(1, 2, 3, 4));
    patch(path, 64 * MiB - 512 + 16, Uint8Array.of(1, 2, 3, 4));
    expect(() => readTable(path)).toThrow(expect.objectContaining({ code: 'E_PARTITION', message: expect.stringMatching(/backup/) }));
  });

  it.runIf(hasFdisk)('finds a GPT written for 4096-byte sectors (header at byte 4096)', () => {
    const path = sparseImage('gpt4k.img', 16 * MiB);
    execFileSync('fdisk', ['-b', '4096', path], { input: 'g\nn\n1\n256\n+4M\nn\n2\n2048\n+1M\nw\n', stdio: ['pipe', 'ignore', 'ignore'] });
    const table = readTable(path);
    expect(table.scheme).toBe('gpt');
    expect(table.sectorSize).toBe(4096);
    // fdisk was asked for sectors 256.. (4 MiB) and 2048.. (1 MiB), in 4096-byte sectors.
    expect(table.partitions.map(({ index, start, size }) => ({ index, start, size }))).toEqual([
      { index: 1, start: 256 * 4096, size: 4 * MiB },
      { index: 2, start: 2048 * 4096, size: 1 * MiB },
    ]);
  });
});

describe('GPT built in memory from the encoders', () => {
  const basicData = 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7';

  function buildGpt(overrides: Partial<GptHeader> = {}): Uint8Array {
    const disk = new Uint8Array(4 * MiB);
    const lastLba = disk.length / 512 - 1;
    const entries = new Uint8Array(128 * 128);
    encodeGptEntry({ typeGuid: basicData, uniqueGuid: '11111111-2222-3333-4444-555555555555', startingLba: 64, endingLba: 127, attributes: new Uint8Array(8).fill(0xff), name: 'x' }, entries, 0);
    const header: GptHeader = {
      revision: 0x10000,
      headerSize: 92,
      myLba: 1,
      alternateLba: lastLba,
      firstUsableLba: 34,
      lastUsableLba: lastLba - 33,
      diskGuid: 'AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE',
      partitionEntryLba: 2,
      numberOfPartitionEntries: 128,
      sizeOfPartitionEntry: 128,
      partitionEntryArrayCrc32: crc32(entries),
      ...overrides,
    };
    encodeMbr({ diskSignature: 0, entries: [{ ...emptyMbrEntry(), type: 0xee, lbaStart: 1, sectorCount: lastLba }] }, disk.subarray(0, 512));
    encodeGptHeader(header, disk.subarray(512, 1024));
    disk.set(entries, 1024);
    return disk;
  }

  it('round-trips GUIDs through their mixed-endian encoding', () => {
    expect(decodeGuid(encodeGuid(basicData))).toBe(basicData);
    // The first three groups are little-endian on disk.
    expect(Array.from(encodeGuid(basicData).subarray(0, 4))).toEqual([0xa2, 0xa0, 0xd0, 0xeb]);
  });

  it('keeps high attribute bits without overflowing', () => {
    const table = readPartitionTable(new MemoryBlockSource(buildGpt()));
    expect(table.partitions).toHaveLength(1);
    expect(table.partitions[0]).toMatchObject({ index: 1, start: 64 * 512, size: 64 * 512, bootable: true, name: 'x' });
  });

  it('reports and does not offer an entry outside the usable LBAs (over the GPT header, entry array or backup)', () => {
    const lastLba = (4 * MiB) / 512 - 1;
    for (const [startingLba, endingLba, message] of [
      [1, 40, /GPT entry 1 starts at LBA 1, before the first usable LBA 34/],
      [33, 40, /GPT entry 1 starts at LBA 33, before the first usable LBA 34/],
      [64, lastLba - 10, new RegExp(`GPT entry 1 ends at LBA ${lastLba - 10}, after the last usable LBA ${lastLba - 33}`)],
    ] as const) {
      const disk = buildGpt();
      const entries = disk.subarray(1024, 1024 + 128 * 128);
      encodeGptEntry({ typeGuid: basicData, uniqueGuid: '11111111-2222-3333-4444-555555555555', startingLba, endingLba, attributes: new Uint8Array(8), name: 'x' }, entries, 0);
      new DataView(disk.buffer).setUint32(512 + 88, crc32(entries), true);
      resealGpt(disk);
      const table = readPartitionTable(new MemoryBlockSource(disk));
      expect(table.scheme).toBe('gpt');
      expect(table.partitions).toEqual([]);
      expect(table.warnings.map((w) => w.message)).toEqual([expect.stringMatching(message)]);
    }
    // The edges themselves are usable.
    const disk = buildGpt();
    const entries = disk.subarray(1024, 1024 + 128 * 128);
    encodeGptEntry({ typeGuid: basicData, uniqueGuid: '11111111-2222-3333-4444-555555555555', startingLba: 34, endingLba: lastLba - 33, attributes: new Uint8Array(8), name: 'x' }, entries, 0);
    new DataView(disk.buffer).setUint32(512 + 88, crc32(entries), true);
    resealGpt(disk);
    expect(readPartitionTable(new MemoryBlockSource(disk)).partitions.map((p) => [p.start, p.size])).toEqual([[34 * 512, (lastLba - 33 - 34 + 1) * 512]]);
  });

  it('refuses a claimed entry count or size beyond the limits with a clear error instead of allocating it', () => {
    for (const overrides of [{ numberOfPartitionEntries: 0xffffffff }, { sizeOfPartitionEntry: 0x7fffffff }, { sizeOfPartitionEntry: 100 }]) {
      const error = (() => {
        try {
          readPartitionTable(new MemoryBlockSource(buildGpt(overrides)));
        } catch (e) {
          return e;
        }
        return null;
      })();
      // No backup exists in this image, so the damaged primary is fatal, and says why.
      expect(error).toBeInstanceOf(DiskkitError);
      expect((error as DiskkitError).message).toMatch(/entry (count|size)|128 x 2\^n/);
    }
  });

  it('only ever returns a table or throws DiskkitError on random bytes in the table sectors', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1536, maxLength: 1536 }), fc.boolean(), (bytes, protective) => {
        const disk = buildGpt();
        disk.set(bytes, 0);
        if (protective) {
          disk[510] = 0x55;
          disk[511] = 0xaa;
          disk.fill(0, 446, 462);
          disk[446 + 4] = 0xee;
        }
        try {
          readPartitionTable(new MemoryBlockSource(disk));
        } catch (error) {
          if (!isDiskkitError(error)) throw error;
        }
      }),
      { numRuns: 300 },
    );
  });

  /** Recomputes the entry-array CRC and then the header CRC, so a mutated table gets past both checks. */
  function resealGpt(disk: Uint8Array): void {
    const view = new DataView(disk.buffer, disk.byteOffset);
    const headerSize = view.getUint32(512 + 12, true);
    const entryLba = Number(view.getBigUint64(512 + 72, true));
    const count = view.getUint32(512 + 80, true);
    const size = view.getUint32(512 + 84, true);
    const arrayStart = entryLba * 512;
    const arrayBytes = count * size;
    if (arrayStart >= 1024 && arrayBytes > 0 && arrayStart + arrayBytes <= disk.length) view.setUint32(512 + 88, crc32(disk.subarray(arrayStart, arrayStart + arrayBytes)), true);
    if (headerSize >= 92 && headerSize <= 512) {
      view.setUint32(512 + 16, 0, true);
      view.setUint32(512 + 16, crc32(disk.subarray(512, 512 + headerSize)), true);
    }
  }

  it('on mutated header and entry fields with valid CRCs, returns well-formed partitions or a DiskkitError', () => {
    let parsed = 0;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 91 + 256 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), (edits) => {
        const disk = buildGpt();
        // Offsets 0..91 land in the header, the rest in the first two entries.
        for (const [at, value] of edits) disk[at < 92 ? 512 + at : 1024 + (at - 92)] = value;
        resealGpt(disk);
        let table;
        try {
          table = readPartitionTable(new MemoryBlockSource(disk));
        } catch (error) {
          expect(isDiskkitError(error), String(error)).toBe(true);
          return;
        }
        parsed++;
        // A partition may run past the end of the disk (when the header's usable range does): the table
        // lists it as sfdisk does, and opening it is refused (image.ts, "runs past the end of the image").
        // Its numbers must be finite and positive, and it lies within the header's usable LBAs.
        const header = new DataView(disk.buffer, 512);
        const firstUsable = Number(header.getBigUint64(40, true));
        const lastUsable = Number(header.getBigUint64(48, true));
        for (const part of table.partitions) {
          expect(Number.isFinite(part.start) && part.start >= 0).toBe(true);
          expect(Number.isFinite(part.size) && part.size > 0).toBe(true);
          // (a header mutated out of being a GPT leaves the protective MBR's 0xEE entry, from LBA 1)
          if (table.scheme !== 'gpt') continue;
          expect(part.start / 512).toBeGreaterThanOrEqual(firstUsable);
          expect((part.start + part.size) / 512 - 1).toBeLessThanOrEqual(lastUsable);
        }
      }),
      { numRuns: 500, seed: 20261206 },
    );
    // The CRCs being right, most mutated tables are parsed, not refused at the checksum.
    expect(parsed).toBeGreaterThan(100);
  });
});
