/**
 * Hostile NTFS volumes that scripts/fuzz.js --kinds ntfs (scripts/fuzz-ntfs.js) showed
 * or suggested, each built here from the shipped demo volume (fixtures/ntfs/demo.ntfs.gz,
 * mkntfs + ntfs-3g) by patching the fields named: the engine and the CLI must stay
 * bounded and report, never crash. Also a file with a hole the size of the volume, the
 * way a hostile image fills a disk through cp out (holes stay holes).
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { FileBlockSource } from '../src/io/block-source.js';
import { locateMft } from '../src/engine/ntfs/mft-source.js';
import { applyFixups, encodeFixups, FixupStatus } from '../src/engine/ntfs/fixup.js';
import { AttributeType } from '../src/engine/ntfs/attributes/attribute-header.js';
import { diskkit } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'diskkit-ntfs-hostile-'));
const image = join(dir, 'demo.ntfs');
const demo = gunzipSync(readFileSync(fileURLToPath(new URL('../fixtures/ntfs/demo.ntfs.gz', import.meta.url))));
const geometry = {
  clusterSize: demo.readUInt16LE(11) * demo[13]!,
  mftAt: Number(demo.readBigUInt64LE(48)) * demo.readUInt16LE(11) * demo[13]!,
  // Clusters per record: negative means 2^-n bytes (1 KiB on mkntfs volumes).
  recordSize: demo.readInt8(64) < 0 ? 2 ** -demo.readInt8(64) : demo.readInt8(64) * demo.readUInt16LE(11) * demo[13]!,
};

/** Offsets (in the fixed-up record) of the record's attributes by type. */
function attributeOffsets(record: Uint8Array): Map<number, number> {
  const view = Buffer.from(record.buffer, record.byteOffset, record.byteLength);
  const out = new Map<number, number>();
  for (let at = view.readUInt16LE(20); at + 8 <= view.length && view.readUInt32LE(at) !== 0xffffffff; at += view.readUInt32LE(at + 4)) {
    if (!out.has(view.readUInt32LE(at))) out.set(view.readUInt32LE(at), at);
    if (view.readUInt32LE(at + 4) === 0) break;
  }
  return out;
}

/** Record `n` of the image's (contiguous) MFT, fixed up, changed by `edit`, its fixups stamped again. */
function patchRecord(n: number, edit: (record: Buffer, attributes: Map<number, number>) => void): void {
  const fd = openSync(image, 'r+');
  try {
    const record = Buffer.alloc(geometry.recordSize);
    const at = geometry.mftAt + n * geometry.recordSize;
    readSync(fd, record, 0, record.length, at);
    const usaOffset = record.readUInt16LE(4);
    expect(applyFixups(record, 0, record.length, usaOffset, record.readUInt16LE(6))).toBe(FixupStatus.OK);
    edit(record, attributeOffsets(record));
    encodeFixups(record, 0, record.length, usaOffset, record.readUInt16LE(usaOffset));
    writeSync(fd, record, 0, record.length, at);
  } finally {
    closeSync(fd);
  }
}

/** Number of the (first) MFT record with a $FILE_NAME `name`. */
function recordNamed(name: string): number {
  const wanted = Buffer.from(name, 'utf16le');
  for (let n = 0; (n + 1) * geometry.recordSize <= demo.length - geometry.mftAt; n++) {
    const record = Buffer.from(demo.subarray(geometry.mftAt + n * geometry.recordSize, geometry.mftAt + (n + 1) * geometry.recordSize));
    if (record.toString('latin1', 0, 4) !== 'FILE') continue;
    applyFixups(record, 0, record.length, record.readUInt16LE(4), record.readUInt16LE(6));
    const at = attributeOffsets(record).get(AttributeType.FILE_NAME);
    if (at === undefined) continue;
    const value = at + record.readUInt16LE(at + 20);
    if (record.subarray(value + 0x42, value + 0x42 + 2 * record[value + 0x40]!).equals(wanted)) return n;
  }
  throw new Error(`no record named ${name}`);
}

/** Grows the image (sparse) to `bytes` and makes the boot sector's sector count say so. */
function growImage(bytes: number): void {
  const fd = openSync(image, 'r+');
  try {
    ftruncateSync(fd, bytes);
    const count = Buffer.alloc(8);
    count.writeBigUInt64LE(BigInt(bytes / demo.readUInt16LE(11) - 1));
    writeSync(fd, count, 0, 8, 40);
  } finally {
    closeSync(fd);
  }
}

beforeEach(() => writeFileSync(image, demo));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hostile NTFS volumes', () => {
  it("reads only the $MFT $BITMAP bytes its records need, whatever size the attribute claims", async () => {
    const before = await diskkit(['--json', 'ls', '-R', '-a', image]);
    expect(before.exitCode, before.stderr).toBe(0);
    const original = locateMft(FileBlockSource.open(image));
    // $MFT's $BITMAP claims 64 MiB, in one run of zeros past the volume's real data (the image grown sparse to hold it).
    const claimed = 64 << 20;
    const firstCluster = demo.length / geometry.clusterSize;
    growImage(demo.length + claimed + geometry.clusterSize);
    patchRecord(0, (record, attributes) => {
      const at = attributes.get(AttributeType.BITMAP)!;
      expect(record[at + 8], '$MFT $BITMAP is non-resident').toBe(1);
      record.writeBigUInt64LE(BigInt(claimed / geometry.clusterSize - 1), at + 24);
      for (const field of [40, 48, 56]) record.writeBigUInt64LE(BigInt(claimed), at + field);
      const runs = at + record.readUInt16LE(at + 32);
      // Run header 0x23: a 3-byte length, a 2-byte LCN.
      const run = Buffer.from([0x23, 0, 0, 0, 0, 0, 0]);
      run.writeUIntLE(claimed / geometry.clusterSize, 1, 3);
      run.writeUInt16LE(firstCluster, 4);
      expect(runs + run.length + 1, 'the run fits the attribute').toBeLessThanOrEqual(at + record.readUInt32LE(at + 4));
      run.copy(record, runs);
      record[runs + run.length] = 0;
    });
    const layout = locateMft(FileBlockSource.open(image));
    // One bit per record (Linux-NTFS documentation, "$MFT:$BITMAP").
    expect(layout.recordCount).toBe(original.recordCount);
    expect(layout.bitmap!.length).toBe(Math.ceil(layout.recordCount / 8));
    const after = await diskkit(['--json', 'ls', '-R', '-a', image]);
    expect(after.exitCode, after.stderr).toBe(0);
    expect(after.stdout).toBe(before.stdout);
  });

  it('refuses a stream whose claimed size its runs do not reach, rather than making up the rest as zeros', async () => {
    const path = '/Users/alice/Pictures/holiday.jpg';
    const good = await diskkit(['cat', `${image}:${path}`], { encoding: 'buffer' });
    expect(good.exitCode).toBe(0);
    let runsCover = 0;
    // Data size 64 MiB, initialized size as it was: the runs still map the file's 5 clusters.
    patchRecord(recordNamed('holiday.jpg'), (record, attributes) => {
      const at = attributes.get(AttributeType.DATA)!;
      expect(record[at + 8], 'the file is non-resident').toBe(1);
      runsCover = (Number(record.readBigUInt64LE(at + 24)) + 1) * geometry.clusterSize;
      record.writeBigUInt64LE(BigInt(64 << 20), at + 48);
    });
    expect(runsCover).toBeLessThan(good.stdout.length + geometry.clusterSize);
    const r = await diskkit(['cat', `${image}:${path}`], { encoding: 'buffer' });
    expect(r.exitCode).toBe(1);
    expect(r.stdout.length).toBe(0);
    expect(Buffer.from(r.stderr).toString()).toBe(`diskkit: ${image}: stream of ${64 << 20} bytes has runs for only ${runsCover}`);
    // The rest of the volume is still read.
    const rest = await diskkit(['cat', `${image}:/Users/alice/Documents/measurements.csv`]);
    expect(rest.exitCode).toBe(0);
  });

  it('cp out leaves a file\'s holes as holes (a few bytes of run list map any number of zero clusters)', async () => {
    const path = '/Users/alice/Pictures/holiday.jpg';
    const original = (await diskkit(['cat', `${image}:${path}`], { encoding: 'buffer' })).stdout as unknown as Buffer;
    const hole = 2048;
    // A sparse run of 2048 clusters (8 MiB) before the file's one run: header 0x02, a 2-byte length, no LCN.
    patchRecord(recordNamed('holiday.jpg'), (record, attributes) => {
      const at = attributes.get(AttributeType.DATA)!;
      const runs = at + record.readUInt16LE(at + 32);
      const end = runs + [...record.subarray(runs, at + record.readUInt32LE(at + 4))].indexOf(0);
      expect(end + 1 + 3, 'the sparse run fits the attribute').toBeLessThanOrEqual(at + record.readUInt32LE(at + 4));
      const list = Buffer.concat([Buffer.from([0x02, hole & 0xff, hole >> 8]), record.subarray(runs, end + 1)]);
      list.copy(record, runs);
      record.writeBigUInt64LE(record.readBigUInt64LE(at + 24) + BigInt(hole), at + 24);
      for (const field of [40, 48, 56]) record.writeBigUInt64LE(record.readBigUInt64LE(at + field) + BigInt(hole * geometry.clusterSize), at + field);
    });
    const out = join(dir, 'holiday.jpg');
    const r = await diskkit(['cp', `${image}:${path}`, out]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(out).equals(Buffer.concat([Buffer.alloc(hole * geometry.clusterSize), original]))).toBe(true);
    // The 8 MiB hole takes no blocks on the host: what is allocated is about the file's 20 KB.
    expect(statSync(out).blocks * 512).toBeLessThan(1 << 20);
  });
});
