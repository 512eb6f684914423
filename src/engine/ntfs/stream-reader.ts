/**
 * A stream's bytes (an NTFS `$DATA` attribute, or any other attribute read whole)
 * as a FileDataSource: resident values; non-resident runs, possibly split across
 * extension records (pieces read in VCN order); sparse runs (zeros, never read);
 * LZNT1-compressed streams (compression units of 2^n clusters: stored raw, fully
 * sparse, or compressed data clusters followed by a sparse tail); bytes past the
 * initialized size read as zeros.
 *
 * The run list is flattened into two typed arrays (start VCN, LCN) and positioned by
 * binary search, so a file of thousands of runs reads chunk by chunk in O(log runs).
 */
import type { BlockSource } from '../../io/block-source.js';
import type { Extent, FileDataSource } from '../volume.js';
import { DiskkitError, ErrorCode } from '../errors.js';
import { AttributeFlag } from './attributes/attribute-header.js';
import type { DecodedAttribute } from './record-decoder.js';
import { decompressLznt1 } from './lznt1.js';
import type { ChunkPiece } from '../../io/chunk-plan.js';
import { returnStaging, spanEnd, spanLength, takeStaging } from '../../io/read-spans.js';

export interface VolumeGeometry {
  source: BlockSource;
  clusterSize: number;
  clusterCount: number;
}

/** Largest compression unit accepted (16 clusters of 4 KiB is what NTFS writes). */
const MAX_UNIT_BYTES = 1 << 20;

export interface StreamSource extends FileDataSource {
  /** True when bytes are stored as they are: non-resident, not compressed, no sparse run, fully initialized. */
  readonly raw: boolean;
  /** The source byte ranges holding the stream, in order (only when `raw`; else E_UNSUPPORTED). */
  extents(): Extent[];
}

function corrupt(message: string, context: Record<string, unknown> = {}): DiskkitError {
  return new DiskkitError(ErrorCode.CORRUPT, message, { context });
}

function rangeCheck(size: number, length: number, position: number): void {
  if (!(position >= 0) || !(length >= 0) || position + length > size) {
    throw new DiskkitError(ErrorCode.SHORT_READ, `read of ${length} bytes at ${position} is past the end of a ${size}-byte stream`, { context: { position, length, size } });
  }
}

/** A stream from its pieces (one resident attribute, or non-resident pieces of one stream in any order). */
export function openStream(geometry: VolumeGeometry, pieces: readonly DecodedAttribute[]): StreamSource {
  // One piece (nearly every file) needs no search and no sorted copy.
  const only = pieces.length === 1 ? pieces[0]! : null;
  const first = only !== null ? (!only.nonResident || only.startVcn === 0 ? only : undefined) : pieces.find((p) => !p.nonResident || p.startVcn === 0);
  if (!first) throw corrupt('stream has no piece starting at VCN 0');
  if (first.flags & AttributeFlag.ENCRYPTED) {
    throw new DiskkitError(ErrorCode.UNSUPPORTED, 'NTFS encrypted (EFS) files cannot be read', { context: { stream: first.name } });
  }
  if (!first.nonResident) return residentStream(first.value ?? new Uint8Array(0));
  return new NonResidentStream(geometry, first, only !== null ? pieces : [...pieces].filter((p) => p.nonResident).sort((a, b) => a.startVcn - b.startVcn));
}

/** A stream of no bytes (a metadata file without an unnamed $DATA, such as $Secure, lists as size 0). */
export function emptyStream(): StreamSource {
  return residentStream(new Uint8Array(0));
}

function residentStream(value: Uint8Array): StreamSource {
  return {
    size: value.length,
    raw: false,
    rawExtents: () => null,
    read(buf, length, position) {
      rangeCheck(value.length, length, position);
      buf.set(value.subarray(position, position + length), 0);
    },
    extents() {
      throw new DiskkitError(ErrorCode.UNSUPPORTED, 'a resident NTFS stream has no raw extents (its bytes live in the MFT record)', {});
    },
  };
}

class NonResidentStream implements StreamSource {
  readonly size: number;
  readonly raw: boolean;
  private readonly source: BlockSource;
  private readonly clusterSize: number;
  private readonly initialized: number;
  /** runVcn[i] = first VCN of run i; runVcn[count] = VCN after the last run. */
  private readonly runVcn: Float64Array;
  /** LCN of run i, or -1 for a sparse run. */
  private readonly runLcn: Float64Array;
  private readonly count: number;
  private readonly unitClusters: number;
  private unitBuffer: Uint8Array | null = null;
  private packedBuffer: Uint8Array | null = null;
  private cachedUnit = -1;

  constructor(geometry: VolumeGeometry, first: DecodedAttribute, pieces: readonly DecodedAttribute[]) {
    this.source = geometry.source;
    this.clusterSize = geometry.clusterSize;
    this.size = first.dataSize;
    this.initialized = Math.min(first.initializedSize, first.dataSize);
    if (!Number.isSafeInteger(this.size) || this.size < 0) throw corrupt(`stream claims an impossible size (${this.size})`);
    let sparse = false;
    const single = pieces.length === 1 && first.startVcn === 0 ? first.runList : undefined;
    if (single !== undefined && single.count > 0) {
      // One piece (nearly every file): its decoded arrays as they are (never written, here
      // or there): two typed arrays made and filled per file opened showed in cp -r profiles.
      this.runVcn = single.vcn;
      this.runLcn = single.lcn;
      this.count = single.count;
      sparse = single.sparse;
    } else {
      let total = 0;
      for (const p of pieces) total += p.runList?.count ?? 0;
      this.runVcn = new Float64Array(total + 1);
      this.runLcn = new Float64Array(total);
      let n = 0;
      let vcn = 0;
      // Piece by piece (one per extension record), copied whole: no work per run here.
      for (const p of pieces) {
        if (p.startVcn !== vcn) throw corrupt(`stream pieces are not contiguous (VCN ${p.startVcn}, expected ${vcn})`, { vcn: p.startVcn });
        const list = p.runList;
        if (list === undefined || list.count === 0) continue;
        this.runVcn.set(list.vcn.subarray(0, list.count), n);
        this.runLcn.set(list.lcn.subarray(0, list.count), n);
        if (list.sparse) sparse = true;
        vcn = list.vcn[list.count]!;
        n += list.count;
      }
      this.count = n;
      this.runVcn[n] = vcn;
    }
    // Runs, sparse ones included, map every cluster up to the allocated size, which is at
    // least the data size. A stream claiming more than its runs reach is corrupt: read, the
    // rest past its initialized size would be made up as zeros (a 16 MiB image claiming
    // 1 TiB kept cat, cp and bench producing zeros for minutes).
    const covered = this.runVcn[this.count]! * this.clusterSize;
    if (covered < this.size) throw corrupt(`stream of ${this.size} bytes has runs for only ${covered}`, { size: this.size, covered });
    const compressed = (first.flags & AttributeFlag.COMPRESSED) !== 0 && first.compressionUnit > 0;
    this.unitClusters = compressed ? 2 ** first.compressionUnit : 0;
    if (compressed && (first.compressionUnit > 16 || this.unitClusters * this.clusterSize > MAX_UNIT_BYTES)) {
      throw new DiskkitError(ErrorCode.UNSUPPORTED, `NTFS compression unit of ${this.unitClusters} clusters of ${this.clusterSize} bytes`, { context: { compressionUnit: first.compressionUnit } });
    }
    this.raw = !compressed && !sparse && this.initialized >= this.size;
  }

  read(buf: Uint8Array, length: number, position: number): void {
    rangeCheck(this.size, length, position);
    let stored = Math.max(0, Math.min(length, this.initialized - position));
    if (stored < length) buf.fill(0, stored, length);
    if (this.unitClusters > 0) this.readCompressed(buf, stored, position);
    else this.readRuns(buf, 0, stored, position);
  }

  rawExtents(): Extent[] | null {
    return this.raw ? this.extents() : null;
  }

  extents(): Extent[] {
    if (!this.raw) throw new DiskkitError(ErrorCode.UNSUPPORTED, 'NTFS stream is compressed, sparse or not fully initialized: read it through openFile', {});
    const out: Extent[] = [];
    const cs = this.clusterSize;
    let left = this.size;
    for (let i = 0; i < this.count && left > 0; i++) {
      const length = Math.min(left, (this.runVcn[i + 1]! - this.runVcn[i]!) * cs);
      const position = this.runLcn[i]! * cs;
      const last = out[out.length - 1];
      if (last && last.position + last.length === position) last.length += length;
      else out.push({ position, length });
      left -= length;
    }
    if (left > 0) throw corrupt(`stream runs cover ${this.size - left} of its ${this.size} bytes`);
    return out;
  }

  /** Index of the run holding `vcn`, or -1 past the last run. */
  private runAt(vcn: number): number {
    if (vcn >= this.runVcn[this.count]! || this.count === 0) return -1;
    let lo = 0;
    let hi = this.count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.runVcn[mid]! <= vcn) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * Reads stream bytes [position, position+length) from the runs into buf[offset..].
   * Sparse runs are zeros, never read. Stored runs that lie close together on the
   * volume are read as one span (io/read-spans.ts: the same gap rule as the read modes),
   * so a fragmented sparse, compressed or partly initialized stream costs few reads.
   */
  private readRuns(buf: Uint8Array, offset: number, length: number, position: number): void {
    const cs = this.clusterSize;
    let at = 0;
    let i = this.runAt(Math.floor(position / cs));
    // Stored pieces not read yet: volume position, length, where they go in buf.
    let pieces: ChunkPiece[] | null = null;
    let targets: number[] | null = null;
    while (at < length) {
      if (i < 0 || i >= this.count) throw corrupt(`stream data at byte ${position + at} is not covered by any run`, { position: position + at });
      const runStart = this.runVcn[i]! * cs;
      const runEnd = this.runVcn[i + 1]! * cs;
      const pos = position + at;
      const n = Math.min(length - at, runEnd - pos);
      const lcn = this.runLcn[i]!;
      if (lcn < 0) buf.fill(0, offset + at, offset + at + n);
      else if (at === 0 && n === length) {
        // The whole read in one run (every small file): straight into place.
        this.source.readAt(buf, offset, n, lcn * cs + (pos - runStart));
      } else {
        (pieces ??= []).push({ position: lcn * cs + (pos - runStart), length: n });
        (targets ??= []).push(offset + at);
      }
      at += n;
      i++;
    }
    if (pieces !== null) this.readPieces(pieces, targets!, buf);
  }

  /** Stored pieces into buf at `targets`, spans close together on the volume read with one call. */
  private readPieces(pieces: readonly ChunkPiece[], targets: readonly number[], buf: Uint8Array): void {
    let staging: Uint8Array | null = null;
    try {
      for (let k = 0; k < pieces.length; ) {
        const end = spanEnd(pieces, k);
        if (end === k + 1) {
          this.source.readAt(buf, targets[k]!, pieces[k]!.length, pieces[k]!.position);
        } else {
          staging ??= takeStaging();
          const start = pieces[k]!.position;
          this.source.readAt(staging, 0, spanLength(pieces, k, end), start);
          for (let j = k; j < end; j++) {
            const from = pieces[j]!.position - start;
            buf.set(staging.subarray(from, from + pieces[j]!.length), targets[j]!);
          }
        }
        k = end;
      }
    } finally {
      if (staging !== null) returnStaging(staging);
    }
  }

  private readCompressed(buf: Uint8Array, length: number, position: number): void {
    const unitBytes = this.unitClusters * this.clusterSize;
    let at = 0;
    while (at < length) {
      const pos = position + at;
      const unit = Math.floor(pos / unitBytes);
      const within = pos - unit * unitBytes;
      const n = Math.min(length - at, unitBytes - within);
      const data = this.unit(unit);
      if (data === null) buf.fill(0, at, at + n);
      else buf.set(data.subarray(within, within + n), at);
      at += n;
    }
  }

  /** The decompressed bytes of compression unit `u`, or null when it is all zeros. */
  private unit(u: number): Uint8Array | null {
    if (u === this.cachedUnit) return this.unitBuffer;
    const cs = this.clusterSize;
    const firstVcn = u * this.unitClusters;
    const endVcn = firstVcn + this.unitClusters;
    // Clusters stored before the first sparse one: all of them = raw unit, none = zeros.
    let stored = 0;
    let i = this.runAt(firstVcn);
    if (i < 0) throw corrupt(`compression unit ${u} is not covered by any run`, { unit: u });
    for (let vcn = firstVcn; vcn < endVcn && i >= 0 && i < this.count; i++) {
      if (this.runLcn[i]! < 0) break;
      const end = Math.min(this.runVcn[i + 1]!, endVcn);
      stored += end - vcn;
      vcn = end;
    }
    const unitBytes = this.unitClusters * cs;
    this.unitBuffer ??= new Uint8Array(unitBytes);
    this.cachedUnit = -1;
    // A unit with no stored cluster is all zeros (sparse).
    if (stored === 0) return null;
    const unitStart = firstVcn * cs;
    const readable = Math.min(unitBytes, this.runVcn[this.count]! * cs - unitStart);
    if (stored === this.unitClusters || (stored * cs >= readable && stored > 0)) {
      // Stored uncompressed (or the last, short unit fully allocated).
      this.readRuns(this.unitBuffer, 0, Math.min(readable, stored * cs), unitStart);
      this.unitBuffer.fill(0, Math.min(readable, stored * cs));
    } else {
      this.packedBuffer ??= new Uint8Array(unitBytes);
      this.readRuns(this.packedBuffer, 0, stored * cs, unitStart);
      const produced = decompressLznt1(this.packedBuffer, 0, stored * cs, this.unitBuffer, 0, unitBytes);
      this.unitBuffer.fill(0, produced);
    }
    this.cachedUnit = u;
    return this.unitBuffer;
  }
}

/** Reads a whole small stream into memory (attribute lists, $UpCase, index blocks); `limit` guards hostile sizes. */
export function readWholeStream(stream: FileDataSource, limit: number, what: string): Uint8Array {
  if (stream.size > limit) {
    throw new DiskkitError(ErrorCode.LIMIT, `${what} of ${stream.size} bytes exceeds ${limit}`, { context: { size: stream.size, limit } });
  }
  const out = new Uint8Array(stream.size);
  stream.read(out, stream.size, 0);
  return out;
}
