/**
 * The MFT edge cases (REFERENCE.md, "NTFS MFT: edge cases"), each on a crafted
 * record named after its quirk, built with the engine's own encoders and indexed
 * in-process from an in-memory dump.
 */
import { describe, expect, it } from 'vitest';
import { buildDump, buildRecord, dirRecord, fileRecord, fn, si, residentData, nonResidentData, indexRoot, TIMES } from './helpers/mft-builder.js';
import { indexBytes } from './helpers/mft-index.js';
import { RecordFlag } from '../src/engine/ntfs/mft-record.js';
import { FileNamespace } from '../src/engine/ntfs/attributes/x30-file-name.js';
import { AttributeFlag, AttributeType, encodeResidentAttribute } from '../src/engine/ntfs/attributes/attribute-header.js';
import { encodeAttributeList } from '../src/engine/ntfs/attributes/x20-attribute-list.js';
import { decodeDataRuns, encodeDataRuns } from '../src/engine/ntfs/data-runs.js';
import { applyFixups, encodeFixups, FixupStatus } from '../src/engine/ntfs/fixup.js';
import { decodeNtfsBootSector, decodeRecordSizeByte } from '../src/engine/ntfs/boot-sector.js';
import { filetimeToIso } from '../src/engine/ntfs/filetime.js';
import { DiskkitError } from '../src/engine/errors.js';

const dump = (entries: [number, Uint8Array][], count = 32, recordSize = 1024) => buildDump(new Map(entries), count, recordSize);

describe('MFT records: edge cases on crafted samples', () => {
  it('1: record size comes from the record itself (4096-byte records in a dump)', async () => {
    const big = (r: Uint8Array) => r;
    const rec4k = buildRecord({ recordSize: 4096, attributes: [si(), fn(5, 'in-4k-record.txt'), residentData(10)] });
    const root = buildRecord({ recordSize: 4096, flags: RecordFlag.IN_USE | RecordFlag.DIRECTORY, attributes: [si(0x10), fn(5, '.'), indexRoot()] });
    const mft0 = buildRecord({ recordSize: 4096, attributes: [si(6), fn(5, '$MFT'), residentData(0)] });
    const { rows, layout } = await indexBytes(dump([[0, mft0], [5, root], [20, big(rec4k)]], 24, 4096));
    expect(layout.recordSize).toBe(4096);
    expect(rows.find((r) => r.record === 20)?.path).toBe('/in-4k-record.txt');
  });

  it('1: the boot sector decodes negative clusters-per-record as 2^n bytes', () => {
    expect(decodeRecordSizeByte(0xf6, 4096)).toBe(1024);
    expect(decodeRecordSizeByte(0xf4, 4096)).toBe(4096);
    expect(decodeRecordSizeByte(2, 4096)).toBe(8192);
    const sector = new Uint8Array(512);
    sector.set(Buffer.from('NTFS    '), 3);
    expect(() => decodeNtfsBootSector(sector)).toThrow(DiskkitError);
  });

  it('2: BAAD records and garbage are counted as bad, all-zero records as empty', async () => {
    const baad = fileRecord('was-here.txt', 5);
    baad.set(Buffer.from('BAAD'), 0);
    const garbage = new Uint8Array(1024).fill(0x41);
    const { index, rows } = await indexBytes(dump([[16, baad], [17, garbage]]));
    expect(index.counts.byStatus.baad).toBe(1);
    expect(index.counts.byStatus.garbage).toBe(1);
    expect(index.counts.badRecords).toBe(2);
    expect(index.counts.empty).toBe(32 - 4);
    expect(rows.some((r) => r.name === 'was-here.txt')).toBe(false);
  });

  it('3: a torn record (fixup mismatch in the second stride) is flagged torn, counted, and never a parent', async () => {
    const tornDir = dirRecord('torn-dir', 5);
    tornDir[1022] ^= 0xff; // the second stride's check bytes no longer match the sequence number
    const child = fileRecord('child-of-torn.txt', 16);
    const { rows, index } = await indexBytes(dump([[16, tornDir], [17, child]]));
    expect(index.counts.byStatus.torn).toBe(1);
    expect(rows.find((r) => r.record === 16)?.flags).toContain('torn');
    expect(rows.find((r) => r.record === 17)?.path).toBe('/$Orphan/child-of-torn.txt');
  });

  it('3: a name across the first stride end reads its restored bytes, and the records read are never written (every mode)', async () => {
    const long = 'x'.repeat(150) + 'ACROSS-510' + 'y'.repeat(60);
    const crossing = fileRecord(long, 5);
    const short = fileRecord('short.txt', 5);
    const bytes = dump([[16, crossing], [17, short]]);
    const before = Uint8Array.from(bytes);
    for (const mode of ['mmap', 'streaming', 'parallel'] as const) {
      const { rows } = await indexBytes(bytes, {}, { mode });
      expect(rows.find((r) => r.record === 16)?.name).toBe(long);
      expect(rows.find((r) => r.record === 17)?.name).toBe('short.txt');
      // mmap hands the parser views of these very bytes: fixups must go to a copy
      expect(Buffer.compare(bytes, before)).toBe(0);
    }
  });

  it('3: the fixup array is checked against the record before it is used', () => {
    const rec = fileRecord('x', 5);
    expect(applyFixups(rec, 0, 1024, 0x30, 3)).toBe(FixupStatus.OK);
    const again = fileRecord('x', 5);
    expect(applyFixups(again, 0, 1024, 0x1fc, 3)).toBe(FixupStatus.BAD_ARRAY);
    expect(applyFixups(again, 0, 1024, 0x30, 200)).toBe(FixupStatus.BAD_ARRAY);
    // 4096-byte record: 8 strides of 512 whatever the sector size
    const buf = new Uint8Array(4096).map((_, i) => i & 0xff);
    const copy = buf.slice();
    encodeFixups(buf, 0, 4096, 0x30, 7);
    expect(applyFixups(buf, 0, 4096, 0x30, 9)).toBe(FixupStatus.OK);
    expect(buf.subarray(0x50)).toEqual(copy.subarray(0x50));
  });

  it('4: an attribute whose length overflows the record makes that record corrupt, not the scan', async () => {
    const overflow = fileRecord('overflowing.txt', 5);
    // first attribute ($STANDARD_INFORMATION) at 0x38: claim 64 KiB length
    new DataView(overflow.buffer).setUint32(0x38 + 4, 0x10000, true);
    const name = fileRecord('fine.txt', 5);
    const { rows, index } = await indexBytes(dump([[16, overflow], [17, name]]));
    expect(index.counts.byStatus.corrupt).toBe(1);
    expect(rows.map((r) => r.path)).toContain('/fine.txt');
    expect(rows.map((r) => r.path)).not.toContain('/overflowing.txt');
  });

  it('4: a name length that runs past the $FILE_NAME value is an error of that record only', async () => {
    const rec = fileRecord('short', 5);
    const at = Buffer.from(rec).indexOf(Buffer.from('s\0h\0o\0r\0t\0', 'latin1'));
    rec[at - 2] = 200; // name length byte of $FILE_NAME
    const { index } = await indexBytes(dump([[16, rec]]));
    expect(index.counts.byStatus.corrupt).toBe(1);
  });

  it('5 and 9: a $FILE_NAME and the $DATA living only in an extension record are merged into the base', async () => {
    const list = encodeResidentAttribute(AttributeType.ATTRIBUTE_LIST, encodeAttributeList([
      { type: 0x10, startVcn: 0, record: 16, sequence: 3, attributeId: 0, name: '' },
      { type: 0x30, startVcn: 0, record: 17, sequence: 1, attributeId: 0, name: '' },
      { type: 0x80, startVcn: 0, record: 17, sequence: 1, attributeId: 1, name: '' },
    ]));
    const base = buildRecord({ sequence: 3, attributes: [si(), list] });
    const ext = buildRecord({ sequence: 1, base: { record: 16, sequence: 3 }, attributes: [fn(5, 'name-in-extension.txt'), residentData(42)] });
    const stray = buildRecord({ sequence: 1, base: { record: 16, sequence: 9 }, attributes: [fn(5, 'stray-extension.txt')] });
    const { rows, index } = await indexBytes(dump([[16, base], [17, ext], [18, stray]]));
    const row = rows.find((r) => r.name === 'name-in-extension.txt')!;
    expect(row.record).toBe(16);
    expect(row.size).toBe(42);
    expect(row.sequence).toBe(3);
    expect(rows.some((r) => r.name === 'stray-extension.txt')).toBe(false);
    expect(index.counts.strayExtensions).toBe(1);
  });

  it('7: data runs decode signed deltas, sparse runs and reject runs outside the volume', () => {
    const runs = [{ vcn: 0, lcn: 1000, length: 8 }, { vcn: 8, lcn: null, length: 16 }, { vcn: 24, lcn: 200, length: 4 }, { vcn: 28, lcn: 70000, length: 300 }];
    expect(decodeDataRuns(encodeDataRuns(runs), 0, 64)).toEqual(runs);
    expect(() => decodeDataRuns(encodeDataRuns(runs), 0, 64, 0, 5000)).toThrow(/outside the volume/);
    expect(() => decodeDataRuns(Uint8Array.from([0x21, 4, 0x10]), 0, 3)).toThrow(DiskkitError);
  });

  it('7: a record whose run list points outside the volume or overflows is counted bad (dump: overflow only)', async () => {
    const bad = buildRecord({ attributes: [si(), fn(5, 'bad-runs.bin'), nonResidentData(4096, [{ vcn: 0, lcn: 10, length: 1 }])] });
    // cut the terminating zero of the run list: the runs now overflow the attribute
    const at = Buffer.from(bad).indexOf(Buffer.from([0x11, 0x01, 0x0a, 0x00]));
    bad.set([0x18], at);
    const { index } = await indexBytes(dump([[16, bad]]));
    expect(index.counts.byStatus.corrupt).toBe(1);
  });

  it('8: DOS names that duplicate a long name are dropped; hard links with different parents give one row per path', async () => {
    const dir = dirRecord('other-dir', 5);
    const file = buildRecord({
      links: 3,
      attributes: [si(), fn(5, 'LONGFI~1.TXT', { namespace: FileNamespace.DOS }), fn(5, 'long file name.txt'), fn(16, 'hard-link.txt', { namespace: FileNamespace.POSIX }), residentData(7)],
    });
    const shortOnly = buildRecord({ attributes: [si(), fn(5, 'SHORT.TXT', { namespace: FileNamespace.WIN32_AND_DOS }), residentData(1)] });
    const { rows } = await indexBytes(dump([[16, dir], [17, file], [18, shortOnly]]));
    expect(rows.filter((r) => r.record === 17).map((r) => r.path).sort()).toEqual(['/long file name.txt', '/other-dir/hard-link.txt']);
    expect(rows.find((r) => r.record === 18)?.path).toBe('/SHORT.TXT');
    expect(rows.find((r) => r.record === 17)?.links).toBe(3);
  });

  it('9: records with no $FILE_NAME (like 12-15) give no row', async () => {
    const nameless = buildRecord({ attributes: [si(), residentData(0)] });
    const { rows } = await indexBytes(dump([[12, nameless]]));
    expect(rows.some((r) => r.record === 12)).toBe(false);
  });

  it('10: a parent reference whose sequence does not match makes an orphan, not a wrong path', async () => {
    const reused = dirRecord('new-owner-of-record', 5, { sequence: 7 });
    const child = fileRecord('old-child.txt', 16, { parentSequence: 6 });
    const { rows, index } = await indexBytes(dump([[16, reused], [17, child]]));
    expect(rows.find((r) => r.record === 17)?.path).toBe('/$Orphan/old-child.txt');
    expect(rows.find((r) => r.record === 17)?.flags).toContain('orphan');
    expect(index.counts.badRecords).toBe(0);
  });

  it('11: self-parents and parent loops end in /$Orphan without hanging, and are reported', async () => {
    const self = dirRecord('self-parent', 16);
    const a = dirRecord('loop-a', 18);
    const b = dirRecord('loop-b', 17);
    const inLoop = fileRecord('inside-loop.txt', 17);
    const { rows, index } = await indexBytes(dump([[16, self], [17, a], [18, b], [19, inLoop]]));
    expect(rows.find((r) => r.record === 16)?.path).toBe('/$Orphan/self-parent');
    const loopPaths = rows.filter((r) => r.record === 17 || r.record === 18).map((r) => r.path);
    for (const p of loopPaths) expect(p.startsWith('/$Orphan/')).toBe(true);
    expect(rows.find((r) => r.record === 19)?.path.startsWith('/$Orphan/')).toBe(true);
    expect(index.warnings.some((w) => /loop/.test(w.message))).toBe(true);
  });

  it('11: a very deep chain is cut into /$Orphan rather than building huge paths', async () => {
    const entries: [number, Uint8Array][] = [];
    const n = 2200;
    for (let i = 0; i < n; i++) entries.push([16 + i, dirRecord('d'.repeat(20), i === 0 ? 5 : 16 + i - 1)]);
    const { rows } = await indexBytes(dump(entries, 16 + n));
    for (const r of rows) expect(r.path.length).toBeLessThanOrEqual(32767 + 40);
  });

  it('11: directory paths rebuilt from the parent chain (path cache full) equal the cached ones, orphans and loops included', async () => {
    const entries: [number, Uint8Array][] = [];
    for (let i = 0; i < 40; i++) entries.push([16 + i, dirRecord(`level-${i}-\u00e9`, i === 0 ? 5 : 16 + i - 1)]);
    entries.push([60, fileRecord('deep.txt', 55)], [61, dirRecord('loop-a', 62)], [62, dirRecord('loop-b', 61)], [63, fileRecord('in-loop.txt', 62)]);
    entries.push([64, dirRecord('lost', 200)], [65, fileRecord('under-lost.txt', 64)], [66, fileRecord('top.txt', 5)]);
    const bytes = dump(entries, 80);
    const cached = await indexBytes(bytes.slice(), { deleted: true });
    const rebuilt = await indexBytes(bytes.slice(), { deleted: true }, { pathPoolUnits: 0 });
    const half = await indexBytes(bytes.slice(), { deleted: true }, { pathPoolUnits: 200 });
    expect(rebuilt.text).toBe(cached.text);
    expect(half.text).toBe(cached.text);
    expect(cached.byPath.get(Array.from({ length: 40 }, (_, i) => `/level-${i}-\u00e9`).join('') + '/deep.txt')?.record).toBe(60);
    expect(cached.rows.find((r) => r.record === 65)?.path).toBe('/$Orphan/lost/under-lost.txt');
    expect(cached.rows.find((r) => r.record === 63)?.path.startsWith('/$Orphan/')).toBe(true);
  });

  it('a record without $STANDARD_INFORMATION has si null and its $FILE_NAME times in fn', async () => {
    const noSi = buildRecord({ attributes: [fn(5, 'no-si.txt'), residentData(3)] });
    const withSi = fileRecord('with-si.txt', 5);
    const { rows } = await indexBytes(dump([[16, noSi], [17, withSi]]));
    const row = rows.find((r) => r.record === 16)!;
    expect(row.si).toBeNull();
    expect(Object.keys(row.fn)).toEqual(['created', 'modified', 'mftModified', 'accessed']);
    expect(row.size).toBe(3);
    expect(rows.find((r) => r.record === 17)?.si).not.toBeNull();
  });

  it('12: each named $DATA stream has its own size, and --streams gives it a row', async () => {
    const rec = buildRecord({ attributes: [si(), fn(5, 'with-ads.txt'), residentData(5), residentData(11, 'Zone.Identifier'), nonResidentData(9000, [{ vcn: 0, lcn: 50, length: 3 }], { name: 'big' })] });
    const { rows } = await indexBytes(dump([[16, rec]]), { streams: true });
    const main = rows.find((r) => r.path === '/with-ads.txt')!;
    expect(main.streams).toEqual([{ name: 'Zone.Identifier', size: 11 }, { name: 'big', size: 9000 }]);
    expect(rows.find((r) => r.path === '/with-ads.txt:big')?.size).toBe(9000);
    expect(rows.find((r) => r.path === '/with-ads.txt:big')?.allocated).toBe(3 * 4096);
  });

  it('13: deleted records are parsed and listed only with --deleted, under a deleted parent whose sequence was bumped', async () => {
    const deletedDir = dirRecord('deleted-dir', 5, { sequence: 3, inUse: false });
    const deletedFile = fileRecord('deleted.txt', 16, { parentSequence: 2, inUse: false });
    const live = fileRecord('live-under-deleted.txt', 16, { parentSequence: 2 });
    const plain = await indexBytes(dump([[16, deletedDir], [17, deletedFile], [18, live]]));
    expect(plain.rows.some((r) => r.deleted)).toBe(false);
    expect(plain.rows.find((r) => r.record === 18)?.path).toBe('/$Orphan/live-under-deleted.txt');
    const withDeleted = await indexBytes(dump([[16, deletedDir], [17, deletedFile], [18, live]]), { deleted: true });
    const d = withDeleted.rows.find((r) => r.record === 17)!;
    expect(d.deleted).toBe(true);
    expect(d.path).toBe('/deleted-dir/deleted.txt');
  });

  it('14: real and allocated sizes, sparse/compressed/encrypted flags from the $DATA header', async () => {
    const sparse = buildRecord({ attributes: [si(0x220), fn(5, 'sparse.bin'), nonResidentData(1 << 20, [{ vcn: 0, lcn: null, length: 255 }, { vcn: 255, lcn: 10, length: 1 }], { flags: AttributeFlag.SPARSE })] });
    const compressed = buildRecord({ attributes: [si(0x820), fn(5, 'compressed.bin'), nonResidentData(5000, [{ vcn: 0, lcn: 20, length: 16 }], { flags: AttributeFlag.COMPRESSED })] });
    const { byPath } = await indexBytes(dump([[16, sparse], [17, compressed]]));
    expect(byPath.get('/sparse.bin')).toMatchObject({ size: 1 << 20, allocated: 256 * 4096 });
    expect(byPath.get('/sparse.bin')!.flags).toContain('sparse');
    expect(byPath.get('/compressed.bin')).toMatchObject({ size: 5000, allocated: 16 * 4096 });
    expect(byPath.get('/compressed.bin')!.flags).toContain('compressed');
  });

  it('15: the four SI and four FN times are kept apart, with 100 ns precision', async () => {
    const { byPath } = await indexBytes(dump([[16, fileRecord('timed.txt', 5)]]));
    const row = byPath.get('/timed.txt')!;
    expect(row.si).toEqual({
      created: '2024-01-02T03:04:05.1234567Z',
      modified: '2024-01-02T03:04:05.1234577Z',
      mftModified: '2024-01-02T03:04:05.1234587Z',
      accessed: '2024-01-02T03:04:05.1234597Z',
    });
    expect(row.fn.created).toBe('2024-01-02T03:04:05.1234567Z');
    expect(filetimeToIso(0, 0)).toBe('1601-01-01T00:00:00.0000000Z');
    expect(filetimeToIso(0xffffffff, 0x7fffffff)).toMatch(/^30828-09-14T02:48:05\.4775807Z$/);
    void TIMES;
  });

  it('17: an absurd attribute list or name length cannot make the scan allocate or hang', async () => {
    const list = encodeResidentAttribute(AttributeType.ATTRIBUTE_LIST, new Uint8Array(64).fill(0xff));
    const rec = buildRecord({ attributes: [si(), list, fn(5, 'hostile-list.txt')] });
    const { index } = await indexBytes(dump([[16, rec]]));
    expect(index.counts.byStatus.corrupt).toBe(1);
  });

  it('a truncated dump is indexed up to its last whole record and the tail is reported', async () => {
    const bytes = dump([[16, fileRecord('last.txt', 5)]]);
    const { rows, index } = await indexBytes(bytes.subarray(0, 17 * 1024 + 300));
    expect(rows.some((r) => r.path === '/last.txt')).toBe(true);
    expect(index.warnings.some((w) => w.code === 'E_TRUNCATED')).toBe(true);
  });

  it('names with "/", control characters and lone surrogates are kept as data and escaped in JSON', async () => {
    const hostile = fileRecord('a/b\u0001\ud800..', 5);
    const { rows, text } = await indexBytes(dump([[16, hostile]]));
    expect(rows.find((r) => r.record === 16)?.name).toBe('a/b\u0001\ud800..');
    expect(text).toContain('a/b\\u0001\\ud800..');
  });
});
