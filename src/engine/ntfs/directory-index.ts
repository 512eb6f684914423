/**
 * A directory's `$I30` file-name index: a B+tree whose root node is the resident
 * $INDEX_ROOT and whose other nodes are "INDX" blocks of the non-resident
 * $INDEX_ALLOCATION (Linux-NTFS documentation, "$INDEX_ROOT", "$INDEX_ALLOCATION",
 * "Index entry"). Entries are walked in key order (an entry's sub-node comes before
 * it), which is the collation order NTFS keeps: names upper-cased through $UpCase.
 *
 * Layouts: $INDEX_ROOT value = 16-byte root header (indexed type, collation, block
 * size, clusters per block) then a node header; an INDX block = multi-sector header
 * ("INDX", fixups), its VCN at 0x10, a node header at 0x18. A node header gives the
 * entries' offset and end relative to itself, and a "has sub-nodes" flag. An entry:
 * file reference (8), entry length (2), key length (2), flags (2: 1 sub-node, 2 last),
 * key (a $FILE_NAME value) at 0x10, sub-node VCN in the entry's last 8 bytes.
 *
 * Hostile trees: every offset is checked against its node, each block is visited at
 * most once (a sub-node pointing back up ends that branch with an error), depth is
 * capped.
 */
import { DiskkitError, ErrorCode } from '../errors.js';
import { applyFixups, FixupStatus } from './fixup.js';
import { AttributeType } from './attributes/attribute-header.js';
import { FILE_NAME_INDEX } from './attributes/x90-index-root.js';
import { fileNameText, type FileName, type FileRecord } from './file-record.js';
import { FILE_NAME_FIXED_LENGTH } from './attributes/x30-file-name.js';
import { openStream, type VolumeGeometry } from './stream-reader.js';

const INDX_SIGNATURE = 0x58444e49;
const ENTRY_HAS_SUBNODE = 1;
const ENTRY_LAST = 2;
const MAX_DEPTH = 64;
/** Index blocks are 4 KiB in practice; anything past 64 KiB is hostile. */
const MAX_INDEX_BLOCK = 65536;

export interface IndexEntry extends FileName {
  record: number;
  sequence: number;
}

function corrupt(dir: number, message: string, context: Record<string, unknown> = {}): DiskkitError {
  return new DiskkitError(ErrorCode.CORRUPT, `directory index of MFT record ${dir} is corrupt: ${message}`, { context: { record: dir, ...context } });
}

/** Calls `visit` for every entry of the directory's $I30, in key order. */
export function forEachIndexEntry(geometry: VolumeGeometry, dir: FileRecord, visit: (entry: IndexEntry) => void): void {
  const root = dir.attributes.find((a) => a.type === AttributeType.INDEX_ROOT && a.name === FILE_NAME_INDEX);
  if (!root?.value || root.value.length < 0x20) throw corrupt(dir.record, 'no $I30 $INDEX_ROOT');
  const rootValue = root.value;
  const blockSize = readU32(rootValue, 8);
  const allocationPieces = dir.attributes.filter((a) => a.type === AttributeType.INDEX_ALLOCATION && a.name === FILE_NAME_INDEX);
  const allocation = allocationPieces.length > 0 ? openStream(geometry, allocationPieces) : null;
  // VCNs count clusters when a block is at least a cluster, else 512-byte units.
  const vcnBytes = blockSize >= geometry.clusterSize ? geometry.clusterSize : 512;
  const visited = new Set<number>();

  const walkNode = (buf: Uint8Array, nodeAt: number, nodeEnd: number, depth: number): void => {
    if (depth > MAX_DEPTH) throw corrupt(dir.record, `index deeper than ${MAX_DEPTH} levels`);
    if (nodeAt + 16 > nodeEnd) throw corrupt(dir.record, 'node header overflows its node');
    const entriesAt = nodeAt + readU32(buf, nodeAt);
    const entriesEnd = Math.min(nodeAt + readU32(buf, nodeAt + 4), nodeEnd);
    let p = entriesAt;
    while (p + 16 <= entriesEnd) {
      const length = buf[p + 8]! | (buf[p + 9]! << 8);
      const keyLength = buf[p + 10]! | (buf[p + 11]! << 8);
      const flags = buf[p + 12]! | (buf[p + 13]! << 8);
      if (length < 16 || p + length > entriesEnd) throw corrupt(dir.record, 'entry overflows its node', { offset: p });
      if (flags & ENTRY_HAS_SUBNODE) {
        if (length < 24) throw corrupt(dir.record, 'sub-node entry too short', { offset: p });
        const vcn = readU32(buf, p + length - 8) + readU32(buf, p + length - 4) * 4294967296;
        // The child's block is read into its own buffer: this node's buffer stays valid.
        walkNode(...readBlock(vcn, depth + 1), depth + 1);
      }
      if (flags & ENTRY_LAST) return;
      if (16 + keyLength > length) throw corrupt(dir.record, 'entry key overflows the entry', { offset: p });
      // The key is a $FILE_NAME value (decodeFileName's layout), read into one object with the entry's reference.
      const key = p + 16;
      const units = keyLength >= FILE_NAME_FIXED_LENGTH ? buf[key + 0x40]! : 0;
      if (keyLength >= FILE_NAME_FIXED_LENGTH && FILE_NAME_FIXED_LENGTH + 2 * units <= keyLength) {
        visit({
          parentRecord: readU32(buf, key) + (buf[key + 4]! | (buf[key + 5]! << 8)) * 4294967296,
          parentSequence: buf[key + 6]! | (buf[key + 7]! << 8),
          name: fileNameText(buf, key + FILE_NAME_FIXED_LENGTH, units),
          namespace: buf[key + 0x41]!,
          record: readU32(buf, p) + (buf[p + 4]! | (buf[p + 5]! << 8)) * 4294967296,
          sequence: buf[p + 6]! | (buf[p + 7]! << 8),
        });
      }
      p += length;
    }
  };

  const levelBuffers: Buffer[] = [];
  const readBlock = (vcn: number, depth: number): [Uint8Array, number, number] => {
    if (!allocation) throw corrupt(dir.record, 'a sub-node is named but there is no $INDEX_ALLOCATION');
    if (blockSize < 512 || blockSize > MAX_INDEX_BLOCK || (blockSize & (blockSize - 1)) !== 0) throw corrupt(dir.record, `index block size ${blockSize}`);
    if (visited.has(vcn)) throw corrupt(dir.record, `index block ${vcn} is reached twice (a loop)`, { vcn });
    visited.add(vcn);
    const position = vcn * vcnBytes;
    if (!Number.isSafeInteger(position) || position + blockSize > allocation.size) throw corrupt(dir.record, `index block ${vcn} lies outside $INDEX_ALLOCATION`, { vcn });
    // One buffer per tree level, reused across the level's blocks (every byte is read
    // or the read throws): a large directory has hundreds of blocks.
    let block = levelBuffers[depth];
    if (block === undefined || block.length !== blockSize) block = levelBuffers[depth] = Buffer.allocUnsafe(blockSize);
    allocation.read(block, blockSize, position);
    if (readU32(block, 0) !== INDX_SIGNATURE) throw corrupt(dir.record, `index block ${vcn} has no INDX signature`, { vcn });
    const usaOffset = block[4]! | (block[5]! << 8);
    const usaCount = block[6]! | (block[7]! << 8);
    if (applyFixups(block, 0, blockSize, usaOffset, usaCount) !== FixupStatus.OK) throw corrupt(dir.record, `index block ${vcn} fails its fixup check`, { vcn });
    return [block, 0x18, blockSize];
  };

  walkNode(rootValue, 0x10, rootValue.length, 0);
}

function readU32(buf: Uint8Array, at: number): number {
  return (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16)) + buf[at + 3]! * 0x1000000;
}
