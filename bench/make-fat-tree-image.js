#!/usr/bin/env node
// Builds a FAT32 image holding DIRS directories of FILES files each, by laying
// directory entries and FAT chains straight into a mkfs.fat-made image with diskkit's
// own encoders (mcopy would take hours for a million files). With MAX_FILE_BYTES > 0
// file sizes spread deterministically over 0..MAX_FILE_BYTES and each file owns a
// chain of that many clusters (the data stays sparse zeroes: fsck walks chains, it
// does not read file data), so chain checks do real work. Usage:
//   node bench/make-fat-tree-image.js OUT.img DIRS FILES [SIZE_MIB] [MAX_FILE_BYTES]
// Check the result once with `fsck.fat -n OUT.img`.
import { execFileSync } from 'node:child_process';
import { openSync, readSync, writeSync, closeSync } from 'node:fs';
import { decodeBootSector } from '../dist/engine/fat/boot-sector.js';
import { encodeDirEntry, encodeRawName, encodeDosDateTime, Attr } from '../dist/engine/fat/dir-entry.js';
import { writeFatValue, endOfChainValue } from '../dist/engine/fat/fat-entry.js';
import { encodeFsInfo } from '../dist/engine/fat/fsinfo.js';

const [out, dirsArg, filesArg, sizeArg] = process.argv.slice(2);
if (!out || !dirsArg || !filesArg) {
  process.stderr.write('usage: make-fat-tree-image.js OUT.img DIRS FILES [SIZE_MIB]\n');
  process.exit(2);
}
const dirs = Number(dirsArg);
const files = Number(filesArg);
const sizeMiB = Number(sizeArg ?? 1024);
const maxFileBytes = Number(process.argv[6] ?? 0);
execFileSync('mkfs.fat', ['-C', '-F', '32', '-i', '0badcafe', out, String(sizeMiB * 1024)], { stdio: 'ignore' });
const fd = openSync(out, 'r+');
const sector0 = Buffer.alloc(512);
readSync(fd, sector0, 0, 512, 0);
const boot = decodeBootSector(sector0);
const bpc = boot.bytesPerCluster;
const fat = Buffer.alloc(boot.sectorsPerFat * boot.bytesPerSector);
readSync(fd, fat, 0, fat.length, boot.firstFatSector * boot.bytesPerSector);
const when = encodeDosDateTime(new Date(2024, 0, 2, 3, 4, 6));
let nextCluster = boot.rootCluster + 1;
const clusterPos = (c) => (boot.firstDataSector + (c - 2) * boot.sectorsPerCluster) * boot.bytesPerSector;

function entry(buf, at, raw, attributes, cluster, fileSize = 0) {
  encodeDirEntry({ rawName: encodeRawName(raw), attributes, ntFlags: 0, createTimeTenth: 0, createTime: when.time, createDate: when.date,
    accessDate: when.date, writeTime: when.time, writeDate: when.date, startCluster: cluster, fileSize }, buf, at, 'fat32');
}
/** Reserves a contiguous chain of `count` clusters in the FAT (no data written); returns the first cluster or 0. */
function chainOnly(count) {
  if (count === 0) return 0;
  const start = nextCluster;
  nextCluster += count;
  if (nextCluster - 2 > boot.clusterCount) throw new Error('image too small for the files: raise SIZE_MIB');
  for (let i = 0; i < count; i++) writeFatValue(fat, 'fat32', start + i, i === count - 1 ? endOfChainValue('fat32') : start + i + 1);
  return start;
}
/** Allocates a contiguous chain for `bytes` and writes `buf` there; returns the first cluster. */
function store(buf, first) {
  const count = Math.max(1, Math.ceil(buf.length / bpc));
  const start = first ?? nextCluster;
  if (first === undefined) nextCluster += count;
  for (let i = 0; i < count; i++) writeFatValue(fat, 'fat32', start + i, i === count - 1 ? endOfChainValue('fat32') : start + i + 1);
  const padded = Buffer.alloc(count * bpc);
  buf.copy(padded);
  writeSync(fd, padded, 0, padded.length, clusterPos(start));
  return start;
}

const rootBytes = Buffer.alloc((dirs + 1) * 32);
const rootSlots = Math.ceil(rootBytes.length / bpc);
// the root keeps cluster 2 and continues contiguously
const rootFirstExtra = nextCluster;
nextCluster += rootSlots - 1;
for (let d = 0; d < dirs; d++) {
  const dirBuf = Buffer.alloc((files + 2) * 32 + 32);
  const self = nextCluster;
  entry(dirBuf, 0, '.          ', Attr.DIRECTORY, self);
  entry(dirBuf, 32, '..         ', Attr.DIRECTORY, 0);
  store(dirBuf);
  for (let f = 0; f < files; f++) {
    const size = maxFileBytes > 0 ? ((d * files + f) * 7919) % (maxFileBytes + 1) : 0;
    entry(dirBuf, (f + 2) * 32, `F${String(f).padStart(7, '0')}TXT`, Attr.ARCHIVE, chainOnly(Math.ceil(size / bpc)), size);
  }
  // The directory's clusters were written before its files' chains were known: write them again.
  writeSync(fd, dirBuf, 0, dirBuf.length, clusterPos(self));
  entry(rootBytes, d * 32, `D${String(d).padStart(7, '0')}   `, Attr.DIRECTORY, self);
}
// root chain: cluster 2 then rootFirstExtra...
const rootPadded = Buffer.alloc(rootSlots * bpc);
rootBytes.copy(rootPadded);
const rootChain = [boot.rootCluster, ...Array.from({ length: rootSlots - 1 }, (_, i) => rootFirstExtra + i)];
rootChain.forEach((c, i) => {
  writeFatValue(fat, 'fat32', c, i === rootChain.length - 1 ? endOfChainValue('fat32') : rootChain[i + 1]);
  writeSync(fd, rootPadded, i * bpc, bpc, clusterPos(c));
});
for (let copy = 0; copy < boot.numberOfFats; copy++) writeSync(fd, fat, 0, fat.length, (boot.firstFatSector + copy * boot.sectorsPerFat) * boot.bytesPerSector);
const fsinfo = encodeFsInfo(boot.clusterCount - (nextCluster - 2), nextCluster, boot.bytesPerSector);
writeSync(fd, fsinfo, 0, fsinfo.length, boot.fsInfoSector * boot.bytesPerSector);
writeSync(fd, fsinfo, 0, fsinfo.length, (boot.backupBootSector + 1) * boot.bytesPerSector);
closeSync(fd);
process.stderr.write(`${out}: ${dirs} directories × ${files} files, clusters used up to ${nextCluster - 1}\n`);
