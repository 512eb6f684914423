/**
 * VFAT long names (fatgen103 section 7, "FAT Long Directory Entries"): a name of up
 * to 255 UTF-16 code units spread over 13-unit slots stored just before the short
 * entry, last slot first. Each slot carries its sequence number (0x40 marks the last
 * one) and the checksum of the short name it belongs to.
 */
import { defineStruct } from '../struct.js';
import { Attr, DIR_ENTRY_SIZE } from './dir-entry.js';

export const LongNameSlot = defineStruct('LongNameSlot', DIR_ENTRY_SIZE, {
  /** Sequence number 1..20, ORed with LAST_LONG_ENTRY on the first slot stored. */
  order: { offset: 0, type: 'u8' },
  name1: { offset: 1, type: { bytes: 10 } },
  attributes: { offset: 11, type: 'u8' },
  type: { offset: 12, type: 'u8' },
  checksum: { offset: 13, type: 'u8' },
  name2: { offset: 14, type: { bytes: 12 } },
  /** Always 0 in a long-name slot. */
  startClusterLow: { offset: 26, type: 'u16' },
  name3: { offset: 28, type: { bytes: 4 } },
});

export const LAST_LONG_ENTRY = 0x40;
export const UNITS_PER_SLOT = 13;
export const MAX_LONG_NAME_SLOTS = 20;
/** Byte offsets of the 13 UTF-16 units within a slot. */
const UNIT_OFFSETS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];

/** fatgen103 section 7: the checksum over the 11 short-name bytes each slot repeats. */
export function shortNameChecksum(rawName: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = ((((sum & 1) << 7) | (sum >>> 1)) + rawName[i]!) & 0xff;
  return sum;
}

export interface DecodedSlot {
  sequence: number;
  last: boolean;
  checksum: number;
  /** The 13 units, as stored (terminator and padding included). */
  units: number[];
}

export function decodeLongNameSlot(buf: Uint8Array, offset: number): DecodedSlot {
  const order = buf[offset]!;
  const units: number[] = [];
  for (const at of UNIT_OFFSETS) units.push(buf[offset + at]! | (buf[offset + at + 1]! << 8));
  return { sequence: order & 0x1f, last: (order & LAST_LONG_ENTRY) !== 0, checksum: buf[offset + 13]!, units };
}

/** How many long-name slots `name` takes (13 UTF-16 units each). */
export function longNameSlotCount(name: string): number {
  return Math.ceil(name.length / UNITS_PER_SLOT);
}

/**
 * Writes the slots for `name` in on-disk order (last slot first), 32 bytes each, at
 * `offset` of `buf`; returns how many. The name ends with 0x0000 when it does not fill
 * its last slot, and the rest is 0xFFFF. Written in place: a directory being filled
 * with thousands of names needs no array per slot.
 */
export function encodeLongNameSlotsInto(name: string, rawShortName: Uint8Array, buf: Uint8Array, offset: number): number {
  const length = name.length;
  const count = longNameSlotCount(name);
  if (count === 0 || count > MAX_LONG_NAME_SLOTS) throw new Error(`long name of ${length} units does not fit`);
  const checksum = shortNameChecksum(rawShortName);
  for (let n = count; n >= 1; n--) {
    const at = offset + (count - n) * DIR_ENTRY_SIZE;
    buf[at] = n | (n === count ? LAST_LONG_ENTRY : 0);
    buf[at + 11] = Attr.LONG_NAME;
    buf[at + 12] = 0;
    buf[at + 13] = checksum;
    buf[at + 26] = 0;
    buf[at + 27] = 0;
    for (let i = 0; i < UNITS_PER_SLOT; i++) {
      const index = (n - 1) * UNITS_PER_SLOT + i;
      const u = index < length ? name.charCodeAt(index) : index === length ? 0 : 0xffff;
      const to = at + UNIT_OFFSETS[i]!;
      buf[to] = u & 0xff;
      buf[to + 1] = u >>> 8;
    }
  }
  return count;
}

/** The slots for `name` in on-disk order (last slot first), each 32 bytes (see encodeLongNameSlotsInto). */
export function encodeLongNameSlots(name: string, rawShortName: Uint8Array): Uint8Array[] {
  const count = longNameSlotCount(name);
  const all = new Uint8Array(Math.max(count, 1) * DIR_ENTRY_SIZE);
  encodeLongNameSlotsInto(name, rawShortName, all, 0);
  const slots: Uint8Array[] = [];
  for (let i = 0; i < count; i++) slots.push(all.slice(i * DIR_ENTRY_SIZE, (i + 1) * DIR_ENTRY_SIZE));
  return slots;
}

/** Why a run of slots was not used; the caller falls back to the short name. */
export type LongNameProblem = 'bad-checksum' | 'bad-sequence' | 'orphan-slots' | 'bad-name';

/**
 * Collects the long-name slots met while scanning a directory and hands out the
 * name when the short entry they belong to arrives. Any inconsistency (missing
 * slot, sequence out of order, checksum mismatch) drops the run: the short name
 * is used and the problem is reported, as fsck.fat treats these as warnings.
 */
export class LongNameAssembler {
  private slots: DecodedSlot[] = [];
  private expected = 0;
  private broken: LongNameProblem | null = null;
  /** Index of the first slot of the current run (for later deletion/rewrite). */
  firstSlotIndex = -1;

  /** Feeds a long-name slot found at directory slot `index`. Returns a problem when an earlier run was abandoned. */
  add(slot: DecodedSlot, index: number): LongNameProblem | null {
    let abandoned: LongNameProblem | null = null;
    if (slot.last) {
      if (this.slots.length > 0 || this.broken) abandoned = this.broken ?? 'orphan-slots';
      this.slots = [slot];
      this.broken = slot.sequence < 1 || slot.sequence > MAX_LONG_NAME_SLOTS ? 'bad-sequence' : null;
      this.expected = slot.sequence - 1;
      this.firstSlotIndex = index;
      return abandoned;
    }
    if (this.slots.length === 0 && !this.broken) {
      // a middle slot with no start: the run's first slot is missing
      this.broken = 'bad-sequence';
      this.firstSlotIndex = index;
      return null;
    }
    if (this.broken) return null;
    if (slot.sequence !== this.expected || slot.checksum !== this.slots[0]!.checksum) {
      this.broken = slot.sequence !== this.expected ? 'bad-sequence' : 'bad-checksum';
      return null;
    }
    this.slots.push(slot);
    this.expected--;
    return null;
  }

  /** True when slots are pending. */
  get pending(): boolean {
    return this.slots.length > 0 || this.broken !== null;
  }

  /**
   * Called with the short entry that follows the slots. Returns the long name, or a
   * problem (and no name) when the run does not belong to this entry. Resets.
   */
  finish(rawShortName: Uint8Array): { name: string | null; problem: LongNameProblem | null; firstSlotIndex: number } {
    const first = this.firstSlotIndex;
    const slots = this.slots;
    const broken = this.broken;
    this.reset();
    if (broken) return { name: null, problem: broken, firstSlotIndex: -1 };
    if (slots.length === 0) return { name: null, problem: null, firstSlotIndex: -1 };
    if (this.expectedAfter(slots) !== 0) return { name: null, problem: 'bad-sequence', firstSlotIndex: -1 };
    if (slots[0]!.checksum !== shortNameChecksum(rawShortName)) return { name: null, problem: 'bad-checksum', firstSlotIndex: -1 };
    const units: number[] = [];
    for (let i = slots.length - 1; i >= 0; i--) units.push(...slots[i]!.units);
    let end = units.indexOf(0);
    if (end === -1) end = units.length;
    // Trailing 0xFFFF padding without a terminator only occurs in broken writers; drop it.
    while (end > 0 && units[end - 1] === 0xffff) end--;
    if (end === 0) return { name: null, problem: 'bad-name', firstSlotIndex: -1 };
    return { name: String.fromCharCode(...units.slice(0, end)), problem: null, firstSlotIndex: first };
  }

  /** Drops the pending run (e.g. at a deleted entry or the end). Returns the problem if slots were abandoned. */
  abandon(): LongNameProblem | null {
    const had = this.pending ? (this.broken ?? 'orphan-slots') : null;
    this.reset();
    return had;
  }

  private expectedAfter(slots: DecodedSlot[]): number {
    return slots[slots.length - 1]!.sequence - 1;
  }

  private reset(): void {
    this.slots = [];
    this.expected = 0;
    this.broken = null;
    this.firstSlotIndex = -1;
  }
}
