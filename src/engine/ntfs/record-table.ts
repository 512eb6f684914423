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

export interface NameListColumns {
  length: number;
  charsUsed: number;
  owner: Uint32Array;
  parent: Float64Array;
  parentSequence: Uint16Array;
  namespace: Uint8Array;
  times: Uint32Array;
  charStart: Uint32Array;
  charLength: Uint16Array;
  chars: Uint16Array;
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

  /** Columns live on SharedArrayBuffers, so format workers can read them without a copy. */
  readonly shared: boolean;

  constructor(capacity = 1024, charCapacity = capacity * 16, shared = false) {
    this.shared = shared;
    this.owner = this.column(Uint32Array, capacity);
    this.parent = this.column(Float64Array, capacity);
    this.parentSequence = this.column(Uint16Array, capacity);
    this.namespace = this.column(Uint8Array, capacity);
    this.times = this.column(Uint32Array, capacity * 8);
    this.charStart = this.column(Uint32Array, capacity);
    this.charLength = this.column(Uint16Array, capacity);
    this.chars = this.column(Uint16Array, charCapacity);
  }

  private column<T extends Uint32Array | Float64Array | Uint16Array | Uint8Array>(Type: { new (b: ArrayBuffer, o: number, n: number): T; BYTES_PER_ELEMENT: number }, n: number): T {
    const bytes = n * Type.BYTES_PER_ELEMENT;
    return new Type((this.shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes)) as ArrayBuffer, 0, n);
  }

  /** The columns (typed arrays) and counts, to post to a worker: shared columns are not copied. */
  columns(): NameListColumns {
    const { length, charsUsed, owner, parent, parentSequence, namespace, times, charStart, charLength, chars } = this;
    return { length, charsUsed, owner, parent, parentSequence, namespace, times, charStart, charLength, chars };
  }

  /** A read-only list over columns received from another thread. */
  static attach(c: NameListColumns): NameList {
    const list = Object.create(NameList.prototype) as NameList;
    Object.assign(list, c, { shared: true });
    return list;
  }

  /** Makes room for one more entry with `units` characters; returns its index. */
  reserve(units: number): number {
    if (this.length === this.owner.length) this.grow(this.owner.length * 2);
    if (this.charsUsed + units > this.chars.length) {
      const chars = this.column(Uint16Array, Math.max(this.chars.length * 2, this.charsUsed + units));
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
      const b = this.column(a.constructor as unknown as { new (b: ArrayBuffer, o: number, n: number): T; BYTES_PER_ELEMENT: number }, capacity * per);
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
   * The list packed into one ArrayBuffer (columns back to back, trimmed to its
   * length), so a worker transfers a single buffer per chunk instead of eight.
   */
  toTransfer(): NameListTransfer {
    const n = this.length;
    const c = this.charsUsed;
    const at = packedLayout(n, c);
    const buffer = new ArrayBuffer(at.bytes);
    new Float64Array(buffer, at.parent, n).set(this.parent.subarray(0, n));
    new Uint32Array(buffer, at.owner, n).set(this.owner.subarray(0, n));
    new Uint32Array(buffer, at.times, n * 8).set(this.times.subarray(0, n * 8));
    new Uint32Array(buffer, at.charStart, n).set(this.charStart.subarray(0, n));
    new Uint16Array(buffer, at.parentSequence, n).set(this.parentSequence.subarray(0, n));
    new Uint16Array(buffer, at.charLength, n).set(this.charLength.subarray(0, n));
    new Uint16Array(buffer, at.chars, c).set(this.chars.subarray(0, c));
    new Uint8Array(buffer, at.namespace, n).set(this.namespace.subarray(0, n));
    return { length: n, charsUsed: c, buffer };
  }

  /** Appends another list (a worker's chunk), keeping order. */
  append(other: NameListTransfer): void {
    const n = other.length;
    if (n === 0) return;
    const c = other.charsUsed;
    const at = packedLayout(n, c);
    const buffer = other.buffer;
    while (this.owner.length < this.length + n) this.grow(this.owner.length * 2);
    if (this.charsUsed + c > this.chars.length) {
      const chars = this.column(Uint16Array, Math.max(this.chars.length * 2, this.charsUsed + c));
      chars.set(this.chars.subarray(0, this.charsUsed));
      this.chars = chars;
    }
    const to = this.length;
    this.parent.set(new Float64Array(buffer, at.parent, n), to);
    this.owner.set(new Uint32Array(buffer, at.owner, n), to);
    this.times.set(new Uint32Array(buffer, at.times, n * 8), to * 8);
    const starts = new Uint32Array(buffer, at.charStart, n);
    for (let i = 0; i < n; i++) this.charStart[to + i] = starts[i]! + this.charsUsed;
    this.parentSequence.set(new Uint16Array(buffer, at.parentSequence, n), to);
    this.charLength.set(new Uint16Array(buffer, at.charLength, n), to);
    this.chars.set(new Uint16Array(buffer, at.chars, c), this.charsUsed);
    this.namespace.set(new Uint8Array(buffer, at.namespace, n), to);
    this.charsUsed += c;
    this.length += n;
  }
}

/** Byte offsets of the packed columns for n entries and c characters (widest first, so each is aligned). */
function packedLayout(n: number, c: number): { parent: number; owner: number; times: number; charStart: number; parentSequence: number; charLength: number; chars: number; namespace: number; bytes: number } {
  const parent = 0;
  const owner = parent + 8 * n;
  const times = owner + 4 * n;
  const charStart = times + 32 * n;
  const parentSequence = charStart + 4 * n;
  const charLength = parentSequence + 2 * n;
  const chars = charLength + 2 * n;
  const namespace = chars + 2 * c;
  return { parent, owner, times, charStart, parentSequence, charLength, chars, namespace, bytes: namespace + n };
}

/** A NameList packed into one transferable buffer (see NameList.toTransfer). */
export interface NameListTransfer {
  length: number;
  charsUsed: number;
  buffer: ArrayBuffer;
}

export function transferListOf(t: NameListTransfer): ArrayBuffer[] {
  return [t.buffer];
}
/** Builds a string from UTF-16 units without spreading huge argument lists. */
export function stringFromUnits(units: Uint16Array, start: number, end: number): string {
  if (end - start < 4096) return String.fromCharCode.apply(null, units.subarray(start, end) as unknown as number[]);
  let s = '';
  for (let i = start; i < end; i += 4096) s += String.fromCharCode.apply(null, units.subarray(i, Math.min(end, i + 4096)) as unknown as number[]);
  return s;
}
