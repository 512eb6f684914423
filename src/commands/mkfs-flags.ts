/**
 * mkfs.fat's spellings for `diskkit mkfs`, so `mkfs.fat -C -F 12 -n BOOT -s 4 img 1440`
 * carries over: -F BITS (= --type), -s SECTORS per cluster (= --cluster-size in
 * sectors), -S BYTES (= --sector-size), -i HEX (= --volume-id), -r N (= --root-entries),
 * -C (accepted: diskkit creates the image anyway) and the trailing block count in
 * KiB (= --size). Each is mapped onto the long option before anything is validated;
 * a short and long spelling that disagree is a usage error.
 */
import { usageError } from './context.js';

export interface MkfsFlagAliases {
  size?: string;
  type?: string;
  clusterSize?: string;
  sectorSize?: string;
  volumeId?: string;
  rootEntries?: string;
  F?: string;
  s?: string;
  S?: string;
  i?: string;
}

function merge(long: string | undefined, short: string | undefined, longName: string, shortName: string): string | undefined {
  if (short === undefined) return long;
  if (long !== undefined && long !== short) throw usageError(`${shortName} ${short} and ${longName} ${long} disagree: give one`);
  return short;
}

/** Maps the mkfs.fat spellings onto the long options (in place); `blocks` is mkfs.fat's BLOCK_COUNT in KiB. */
export function applyMkfsFatSpellings(flags: MkfsFlagAliases, blocks: string | undefined): void {
  if (flags.F !== undefined) {
    if (!/^(12|16|32)$/.test(flags.F)) throw usageError(`-F takes 12, 16 or 32, not '${flags.F}'`);
    const type = `fat${flags.F}`;
    if (flags.type !== undefined && flags.type.toLowerCase().replace(/^(fat)?/, 'fat') !== type) throw usageError(`-F ${flags.F} and --type ${flags.type} disagree: give one`);
    flags.type = type;
  }
  // --sector-size has a default, so -S simply wins over it.
  if (flags.S !== undefined) flags.sectorSize = flags.S;
  flags.volumeId = merge(flags.volumeId, flags.i, '--volume-id', '-i');
  if (flags.s !== undefined) {
    const spc = Number(flags.s);
    if (!Number.isInteger(spc) || spc < 1 || spc > 128 || (spc & (spc - 1)) !== 0) throw usageError(`-s takes sectors per cluster: 1, 2, 4, ... 128, not '${flags.s}'`);
    const bytes = String(spc * Number(flags.sectorSize ?? '512'));
    flags.clusterSize = merge(flags.clusterSize, bytes, '--cluster-size', '-s (in bytes)');
  }
  if (blocks !== undefined) {
    if (!/^\d+$/.test(blocks)) throw usageError(`the block count after the image is a number of KiB (as mkfs.fat), not '${blocks}'`);
    flags.size = merge(flags.size, `${blocks}K`, '--size', 'the block count');
  }
}

/** --root-entries / -r: the FAT12/16 fixed root's entry count (mkfs.fat rounds it up to whole sectors). */
export function parseRootEntries(text: string | undefined, type: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 16 || n > 65520) throw usageError(`--root-entries takes a number from 16 to 65520, not '${text}'`);
  if (type !== undefined && /^(fat)?32$/i.test(type)) throw usageError('--root-entries is for FAT12/16: the FAT32 root directory is a cluster chain and grows');
  return n;
}
