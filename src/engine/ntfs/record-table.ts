/**
 * The compact, columnar form the indexer keeps: one slot per MFT record in typed
 * arrays (optionally over a SharedArrayBuffer so parse workers fill disjoint slices
 * in place), and growable lists for the variable parts — names and named streams —
 * whose characters live in one UTF-16 pool. Nothing here is a per-record object, so
 * a million records cost tens of megabytes and cross thread boundaries as buffers.
 */

/** Bits of `RecordTable.present`. */
export const Present = {
  STANDARD_INFORMATION: 0x01,
  /** The unnamed $DATA's first piece (start VCN 0) was seen, so size/allocated are known. */
  DATA: 0x02,
  INDEX_ROOT: 0x04,
  INDEX_ALLOCATION: 0x08,
  REPARSE_POINT: 0x10,
  ATTRIBUTE_LIST: 0x20,
} as const;

/** Per-record columns, in the order they are laid out in one buffer. */
const COLUMNS = [
  ['status', Uint8Array, 1],
  ['present', Uint8Array, 1],
  ['flags', Uint16Array, 1],
  ['sequence', Uint16Array, 1],
  ['links', Uint16Array, 1],
  ['baseSequence', Uint16Array, 1],
  ['dataFlags', Uint16Array, 1],
  ['fileAttributes', Uint32Array, 1],
  ['reparseTag', Uint32Array, 1],
  ['siTimes', Uint32Array, 8],
  ['baseRecord', Float64Array, 1],
  ['size', Float64Array, 1],
  ['allocated', Float64Array, 1],
] as const;

type Columns = {
  status: Uint8Array;
  present: Uint8Array;
  flags: Uint16Array;
  sequence: Uint16Array;
  links: Uint16Array;
  baseSequence: Uint16Array;
  dataFlags: Uint16Array;
  fileAttributes: Uint32Array;
  reparseTag: Uint32Array;
  /** Four FILETIMEs per record as (lo, hi) u32 pairs: created, modified, mftModified, accessed. */
  siTimes: Uint32Array;
  baseRecord: Float64Array;
  size: Float64Array;
  allocated: Float64Array;
};

function layout(count: number): { offsets: number[]; bytes: number } {
  const offsets: number[] = [];
  let at = 0;
  for (const [, Type, per] of COLUMNS) {
    at = Math.ceil(at / 8) * 8;
    offsets.push(at);
    at += count * per * Type.BYTES_PER_ELEMENT;
  }
  return { offsets, bytes: Math.ceil(at / 8) * 8 };
}

export interface RecordTable extends Columns {
  readonly count: number;
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}

/** Allocates a table for `count` records, on a SharedArrayBuffer when `shared`. */
export function allocateRecordTable(count: number, shared = false): RecordTable {
  const { bytes } = layout(count);
  const buffer = shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  return attachRecordTable(buffer, count);
}

/** Views an existing buffer (e.g. received by a worker) as a table. */
export function attachRecordTable(buffer: ArrayBuffer | SharedArrayBuffer, count: number): RecordTable {
  const { offsets } = layout(count);
  const table = { count, buffer } as Record<string, unknown>;
  COLUMNS.forEach(([name, Type, per], i) => {
    table[name] = new Type(buffer as ArrayBuffer, offsets[i]!, count * per);
  });
  return table as unknown as RecordTable;
}

/** A growable list of $FILE_NAME attributes (or named streams) with a UTF-16 character pool. */
export class NameList {
  length = 0;
  /** The record that holds the attribute (rewritten to the base record when extensions are merged). */
  owner: Uint32Array;
  /** Parent record (names) or stream size (streams). */
  parent: Float64Array;
  /** Parent sequence (names) or 0 (streams). */
  parentSequence: Uint16Array;
  /** Namespace (names) or attribute flags low byte (streams). */
  namespace: Uint8Array;
  /** Names: four FILETIMEs as lo/hi pairs. Streams: allocated size in slot 0..1 as lo/hi. */
  times: Uint32Array;
  charStart: Uint32Array;
  charLength: Uint16Array;
  chars: Uint16Array;
  charsUsed = 0;

  constructor(capacity = 1024, charCapacity = capacity * 16) {
    this.owner = new Uint32Array(capacity);
    this.parent = new Float64Array(capacity);
    this.parentSequence = new Uint16Array(capacity);
    this.namespace = new Uint8Array(capacity);
    this.times = new Uint32Array(capacity * 8);
    this.charStart = new Uint32Array(capacity);
    this.charLength = new Uint16Array(capacity);
    this.chars = new Uint16Array(charCapacity);
  }

  /** Makes room for one more entry with `units` characters; returns its index. */
  reserve(units: number): number {
    if (this.length === this.owner.length) this.grow(this.owner.length * 2);
    if (this.charsUsed + units > this.chars.length) {
      const chars = new Uint16Array(Math.max(this.chars.length * 2, this.charsUsed + units));
      chars.set(this.chars.subarray(0, this.charsUsed));
      this.chars = chars;
    }
    const i = this.length++;
    this.charStart[i] = this.charsUsed;
    this.charLength[i] = units;
    this.charsUsed += units;
    return i;
  }

  /** Drops entries from `length` on (a record that turned out corrupt). */
  truncate(length: number): void {
    if (length >= this.length) return;
    this.charsUsed = this.charStart[length]!;
    this.length = length;
  }

  private grow(capacity: number): void {
    const grow = <T extends Uint32Array | Float64Array | Uint16Array | Uint8Array>(a: T, per = 1): T => {
      const b = new (a.constructor as new (n: number) => T)(capacity * per);
      b.set(a as never);
      return b;
    };
    this.owner = grow(this.owner);
    this.parent = grow(this.parent);
    this.parentSequence = grow(this.parentSequence);
    this.namespace = grow(this.namespace);
    this.times = grow(this.times, 8);
    this.charStart = grow(this.charStart);
    this.charLength = grow(this.charLength);
  }

  /** The string of entry `i`. */
  name(i: number): string {
    const start = this.charStart[i]!;
    return stringFromUnits(this.chars, start, start + this.charLength[i]!);
  }

  /**
   * Views of the list trimmed to its length, for a worker to transfer (move) back
   * without copying; the list must not be used afterwards.
   */
  toTransfer(): NameListTransfer {
    const n = this.length;
    return {
      length: n,
      owner: this.owner.subarray(0, n),
      parent: this.parent.subarray(0, n),
      parentSequence: this.parentSequence.subarray(0, n),
      namespace: this.namespace.subarray(0, n),
      times: this.times.subarray(0, n * 8),
      charStart: this.charStart.subarray(0, n),
      charLength: this.charLength.subarray(0, n),
      chars: this.chars.subarray(0, this.charsUsed),
    };
  }

  /** Appends another list (a worker's chunk), keeping order. */
  append(other: NameListTransfer): void {
    const n = other.length;
    if (n === 0) return;
    while (this.owner.length < this.length + n) this.grow(this.owner.length * 2);
    if (this.charsUsed + other.chars.length > this.chars.length) {
      const chars = new Uint16Array(Math.max(this.chars.length * 2, this.charsUsed + other.chars.length));
      chars.set(this.chars.subarray(0, this.charsUsed));
      this.chars = chars;
    }
    const at = this.length;
    this.owner.set(other.owner, at);
    this.parent.set(other.parent, at);
    this.parentSequence.set(other.parentSequence, at);
    this.namespace.set(other.namespace, at);
    this.times.set(other.times, at * 8);
    this.charLength.set(other.charLength, at);
    for (let i = 0; i < n; i++) this.charStart[at + i] = other.charStart[i]! + this.charsUsed;
    this.chars.set(other.chars, this.charsUsed);
    this.charsUsed += other.chars.length;
    this.length += n;
  }
}

export interface NameListTransfer {
  length: number;
  owner: Uint32Array;
  parent: Float64Array;
  parentSequence: Uint16Array;
  namespace: Uint8Array;
  times: Uint32Array;
  charStart: Uint32Array;
  charLength: Uint16Array;
  chars: Uint16Array;
}

export function transferListOf(t: NameListTransfer): ArrayBuffer[] {
  return [t.owner, t.parent, t.parentSequence, t.namespace, t.times, t.charStart, t.charLength, t.chars].map((a) => a.buffer as ArrayBuffer);
}

/** Builds a string from UTF-16 units without spreading huge argument lists. */
export function stringFromUnits(units: Uint16Array, start: number, end: number): string {
  if (end - start < 4096) return String.fromCharCode.apply(null, units.subarray(start, end) as unknown as number[]);
  let s = '';
  for (let i = start; i < end; i += 4096) s += String.fromCharCode.apply(null, units.subarray(i, Math.min(end, i + 4096)) as unknown as number[]);
  return s;
}
