/**
 * Hostile FAT16 images built by hand on top of an mkfs.fat image: raw bytes written
 * at offsets computed from the boot sector here (not through diskkit's encoders), so
 * the expectation does not come from the code under test.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

export interface Fat16Geometry {
  bytesPerSector: number;
  sectorsPerCluster: number;
  bytesPerCluster: number;
  fatOffsets: number[];
  rootOffset: number;
  rootEntries: number;
  dataOffset: number;
}

/** An empty FAT16 image of `mib` MiB with 512-byte clusters, made by mkfs.fat. */
export function makeFat16(path: string, mib = 8): Buffer {
  execFileSync('mkfs.fat', ['-F', '16', '-s', '1', '-n', 'HOSTILE', '-C', path, String(mib * 1024)], { stdio: 'ignore' });
  return readFileSync(path);
}

export function geometry(img: Buffer): Fat16Geometry {
  const bps = img.readUInt16LE(11);
  const spc = img[13]!;
  const reserved = img.readUInt16LE(14);
  const fats = img[16]!;
  const rootEntries = img.readUInt16LE(17);
  const spf = img.readUInt16LE(22);
  const fatOffsets = Array.from({ length: fats }, (_, i) => (reserved + i * spf) * bps);
  const rootOffset = (reserved + fats * spf) * bps;
  return { bytesPerSector: bps, sectorsPerCluster: spc, bytesPerCluster: bps * spc, fatOffsets, rootOffset, rootEntries, dataOffset: rootOffset + rootEntries * 32 };
}

/** Sets FAT16 entry `cluster` to `value` in every FAT copy. */
export function setFat(img: Buffer, g: Fat16Geometry, cluster: number, value: number): void {
  for (const at of g.fatOffsets) img.writeUInt16LE(value, at + cluster * 2);
}

export function clusterOffset(g: Fat16Geometry, cluster: number): number {
  return g.dataOffset + (cluster - 2) * g.bytesPerCluster;
}

/** Writes an 8.3 entry ("NAME", "EXT" upper case, padded here) at byte `at`. */
export function writeEntry(img: Buffer, at: number, name: string, ext: string, attributes: number, start: number, size: number): void {
  img.fill(0, at, at + 32);
  img.write(name.padEnd(8, ' ') + ext.padEnd(3, ' '), at, 11, 'latin1');
  img[at + 11] = attributes;
  img.writeUInt16LE(0x5000, at + 22); // 10:00:00
  img.writeUInt16LE(0x5a21, at + 24); // 2025-01-01
  img.writeUInt16LE(start, at + 26);
  img.writeUInt32LE(size, at + 28);
}

export const DIR = 0x10;
export const EOC = 0xffff;

/**
 * A directory chain c, c+1, ..., c+n-1 where every cluster but the last starts with
 * two subdirectory entries, A.k and B.k, both starting at the next cluster (then the
 * end-of-directory mark). The directory starting at cluster k reads clusters k..end
 * but lists only those two: no directory is its own ancestor by start cluster, yet
 * the tree is 2^(n-1) directories deep along every path. Reached from the root as /LOOP.
 */
export function writeSharedClusterTree(path: string, n = 24, first = 3): void {
  const img = makeFat16(path);
  const g = geometry(img);
  for (let k = 0; k < n; k++) setFat(img, g, first + k, k + 1 < n ? first + k + 1 : EOC);
  writeEntry(img, g.rootOffset + 32, 'LOOP', '', DIR, first, 0);
  for (let k = 0; k + 1 < n; k++) {
    const at = clusterOffset(g, first + k);
    writeEntry(img, at, 'A', String(k), DIR, first + k + 1, 0);
    writeEntry(img, at + 32, 'B', String(k), DIR, first + k + 1, 0);
  }
  writeFileSync(path, img);
}

/**
 * A valid tree `levels` directories deep (/D/D/D/...), one cluster each, with '.' and
 * '..' entries as mkfs.fat/mmd would write them.
 */
export function writeDeepTree(path: string, levels: number, first = 3): void {
  const img = makeFat16(path);
  const g = geometry(img);
  writeEntry(img, g.rootOffset + 32, 'D', '', DIR, first, 0);
  for (let k = 0; k < levels; k++) {
    const c = first + k;
    setFat(img, g, c, EOC);
    const at = clusterOffset(g, c);
    writeEntry(img, at, '.', '', DIR, c, 0);
    writeEntry(img, at + 32, '..', '', DIR, k === 0 ? 0 : c - 1, 0);
    if (k + 1 < levels) writeEntry(img, at + 64, 'D', '', DIR, c + 1, 0);
  }
  writeFileSync(path, img);
}

/**
 * `dirs` subdirectories of the root (/F0, /F1...), each a chain of `clusters`
 * clusters full of file entries (after '.' and '..') that claim 1 byte but have no
 * start cluster: one E_FSCK_CHAIN_SIZE finding each. Returns how many such entries.
 */
export function writeFindingFlood(path: string, dirs: number, clusters: number, mib = 8): number {
  const img = makeFat16(path, mib);
  const g = geometry(img);
  const slotsPerDir = (clusters * g.bytesPerCluster) / 32;
  let next = 3;
  let files = 0;
  for (let d = 0; d < dirs; d++) {
    const first = next;
    for (let k = 0; k < clusters; k++) setFat(img, g, first + k, k + 1 < clusters ? first + k + 1 : EOC);
    next += clusters;
    writeEntry(img, g.rootOffset + 32 * (d + 1), `F${d}`, '', DIR, first, 0);
    const base = clusterOffset(g, first);
    writeEntry(img, base, '.', '', DIR, first, 0);
    writeEntry(img, base + 32, '..', '', DIR, 0, 0);
    for (let s = 2; s < slotsPerDir; s++) {
      writeEntry(img, base + s * 32, `N${String(s).padStart(7, '0')}`, 'TXT', 0x20, 0, 1);
      files++;
    }
  }
  writeFileSync(path, img);
  return files;
}

/** fatgen103 section 7: the checksum of an 11-byte short name. */
export function shortNameChecksum(raw: Buffer): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = ((((sum & 1) << 7) | (sum >>> 1)) + raw[i]!) & 0xff;
  return sum;
}

/**
 * Writes `name` as long-name slots followed by the 8.3 entry (`short` = 11 bytes as
 * stored) at byte `at`; returns the byte after the entry.
 */
export function writeLongEntry(img: Buffer, at: number, name: string, short: string, attributes: number, start: number, size: number): number {
  const units = [...name].flatMap((c) => {
    const code = c.codePointAt(0)!;
    return code > 0xffff ? [0xd800 + ((code - 0x10000) >> 10), 0xdc00 + ((code - 0x10000) & 0x3ff)] : [code];
  });
  const slots = Math.ceil(units.length / 13);
  const raw = Buffer.from(short, 'latin1');
  const sum = shortNameChecksum(raw);
  const offsets = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];
  for (let k = slots; k >= 1; k--) {
    const slot = Buffer.alloc(32, 0xff);
    slot[0] = k | (k === slots ? 0x40 : 0);
    offsets.forEach((o, j) => {
      const i = (k - 1) * 13 + j;
      slot.writeUInt16LE(i < units.length ? units[i]! : i === units.length ? 0 : 0xffff, o);
    });
    slot[11] = 0x0f;
    slot[12] = 0;
    slot[13] = sum;
    slot.writeUInt16LE(0, 26);
    slot.copy(img, at);
    at += 32;
  }
  img.fill(0, at, at + 32);
  raw.copy(img, at);
  img[at + 11] = attributes;
  img.writeUInt16LE(0x5000, at + 22);
  img.writeUInt16LE(0x5a21, at + 24);
  img.writeUInt16LE(start, at + 26);
  img.writeUInt32LE(size, at + 28);
  return at + 32;
}
