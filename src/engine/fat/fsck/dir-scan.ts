/**
 * One pass over a directory's 32-byte slots for the check (fatgen103 sections 6 and 7):
 * live short entries with the long name that validly precedes them, and the runs of
 * long-name slots that belong to no entry (out of order, wrong checksum, cut off).
 * Unlike the read path's parser it reports the exact slots of every broken run, so
 * the repair can delete them.
 */
import { Attr, DELETED_MARK, DIR_ENTRY_SIZE, KANJI_E5_ESCAPE, decodeOemChar } from '../dir-entry.js';
import { LAST_LONG_ENTRY, MAX_LONG_NAME_SLOTS, decodeLongNameSlot } from '../long-name.js';

export interface OrphanRun {
  slots: number[];
  why: string;
}

/**
 * The live short entries of a directory as two parallel lists (no object per entry:
 * a million-file volume would otherwise allocate a million of them): `slot[i]` is the
 * short entry's slot, `firstSlot[i]` the first slot of its valid long name (or
 * `slot[i]` when it has none; the long name then fills slots firstSlot..slot-1).
 */
export interface ScanResult {
  count: number;
  slot: Int32Array;
  firstSlot: Int32Array;
  orphans: OrphanRun[];
  /** Long-name slots whose reserved fields are not 0 (LDIR_Type at 12, LDIR_FstClusLO at 26; fatgen103 section 7). */
  lfnReserved: number[];
}

/** fatgen103 section 7: the short-name checksum, over the 11 name bytes at `at`. */
function checksumAt(bytes: Uint8Array, at: number): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) | (sum >>> 1)) + bytes[at + i]! & 0xff;
  return sum;
}

/** Byte offsets of the 13 UTF-16 units in a long-name slot (fatgen103 section 7). */
const UNIT_OFFSETS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];

/** Whether the long name in slots first..last (on-disk order) is empty: its first unit ends it. */
function longNameEmpty(bytes: Uint8Array, lastSlotOfName: number): boolean {
  // The slot right before the short entry holds the name's first 13 units.
  const at = lastSlotOfName * DIR_ENTRY_SIZE;
  for (const o of UNIT_OFFSETS) {
    const u = bytes[at + o]! | (bytes[at + o + 1]! << 8);
    if (u === 0) return true;
    if (u !== 0xffff) return false;
  }
  return true;
}

/** Scans `slotCount` slots of `bytes`. Stops at the end marker. */
export function scanDirectorySlots(bytes: Uint8Array, slotCount: number): ScanResult {
  const slotList = new Int32Array(slotCount);
  const firstList = new Int32Array(slotCount);
  let count = 0;
  const orphans: OrphanRun[] = [];
  const lfnReserved: number[] = [];
  // The current run of long-name slots: always consecutive slots runStart..runStart+runLength-1.
  let runStart = 0;
  let runLength = 0;
  let runWhy: string | null = null;
  let expected = 0;
  let checksum = -1;
  const orphan = (why: string): void => {
    const slots: number[] = [];
    for (let i = 0; i < runLength; i++) slots.push(runStart + i);
    orphans.push({ slots, why });
  };
  const drop = (why: string): void => {
    if (runLength > 0) orphan(runWhy ?? why);
    runLength = 0;
    runWhy = null;
  };
  for (let slot = 0; slot < slotCount; slot++) {
    const at = slot * DIR_ENTRY_SIZE;
    const first = bytes[at]!;
    if (first === 0) break;
    const attr = bytes[at + 11]!;
    if (first === DELETED_MARK) {
      drop('long-name slots not followed by their entry');
      continue;
    }
    if ((attr & 0x3f) === Attr.LONG_NAME) {
      const order = first;
      const seq = order & 0x3f & ~LAST_LONG_ENTRY;
      const sum = bytes[at + 13]!;
      // The attribute's top two bits are reserved too: fsck.fat takes only exactly 0x0F for a long-name slot.
      if (bytes[at + 12] !== 0 || bytes[at + 26] !== 0 || bytes[at + 27] !== 0 || (attr & 0xc0) !== 0) lfnReserved.push(slot);
      if (order & LAST_LONG_ENTRY) {
        drop('long-name slots not followed by their entry');
        runStart = slot;
        runLength = 1;
        checksum = sum;
        expected = seq - 1;
        if (seq < 1 || seq > MAX_LONG_NAME_SLOTS || (order & 0x80) !== 0) runWhy = `long-name slot has sequence number ${seq}`;
        continue;
      }
      if (runLength === 0) {
        runStart = slot;
        runLength = 1;
        runWhy = 'long-name slot without the first slot of its name';
        continue;
      }
      runLength++;
      if (runWhy === null) {
        if (seq !== expected || seq === 0) runWhy = 'long-name slots out of order';
        else if (sum !== checksum) runWhy = 'long-name slots disagree on the checksum';
        else expected--;
      }
      continue;
    }
    if (attr & Attr.VOLUME_ID && !(attr & Attr.DIRECTORY)) {
      drop('long-name slots before a volume label');
      continue;
    }
    let firstSlot = slot;
    if (runLength > 0) {
      let why = runWhy;
      if (why === null && expected !== 0) why = 'long-name slots out of order (a slot is missing)';
      if (why === null && first === 0x2e) why = 'long-name slots before a dot entry';
      if (why === null && checksum !== checksumAt(bytes, at)) why = 'long-name checksum does not match its short entry';
      if (why === null && longNameEmpty(bytes, slot - 1)) why = 'long name is empty';
      if (why !== null) orphan(why);
      else firstSlot = runStart;
      runLength = 0;
      runWhy = null;
    }
    slotList[count] = slot;
    firstList[count] = firstSlot;
    count++;
  }
  drop('long-name slots at the end of the directory without their entry');
  return { count, slot: slotList, firstSlot: firstList, orphans, lfnReserved };
}

/** The long name held in slots firstSlot..slot-1 (a run scanDirectorySlots accepted), or null when there is none. */
export function longNameAt(bytes: Uint8Array, firstSlot: number, slot: number): string | null {
  if (firstSlot === slot) return null;
  const units: number[] = [];
  for (let s = slot - 1; s >= firstSlot; s--) units.push(...decodeLongNameSlot(bytes, s * DIR_ENTRY_SIZE).units);
  let end = units.indexOf(0);
  if (end === -1) end = units.length;
  while (end > 0 && units[end - 1] === 0xffff) end--;
  return end > 0 ? String.fromCharCode(...units.slice(0, end)) : null;
}

/** Characters fsck.fat and DOS refuse in a short name (besides control characters and 0x7F). */
// '.' too: it separates base and extension only when a name is shown, and fsck.fat calls a short
// name holding one bad ('AB.DEFGH.TXT'); '.' and '..' entries are checked before names are.
const FORBIDDEN = new Set([...'*?<>|"\\/:.'].map((c) => c.charCodeAt(0)));
/** Per byte value: 1 when it can never appear in a short name (control, 0x7F, forbidden punctuation). */
const NEVER = new Uint8Array(256);
for (let b = 0; b < 0x20; b++) NEVER[b] = 1;
NEVER[0x7f] = 1;
for (const b of FORBIDDEN) NEVER[b] = 1;

/**
 * Why the 11-byte short name at `at` of `bytes` is invalid, or null (fatgen103 section
 * 6.1: no control characters, none of the forbidden punctuation, no leading space, no
 * space inside the base or the extension followed by another character). Allocates
 * nothing for a valid name: it runs once per entry of the volume.
 */
export function badShortName(bytes: Uint8Array, at = 0): string | null {
  let bad = bytes[at] === 0x20;
  for (let i = 0; i < 11 && !bad; i++) {
    const b = bytes[at + i]!;
    if (NEVER[b] === 1 && !(i === 0 && b === KANJI_E5_ESCAPE)) bad = true;
    else if (b !== 0x20 && i !== 0 && i !== 8 && bytes[at + i - 1] === 0x20) bad = true;
  }
  if (!bad) return null;
  const raw = bytes.subarray(at, at + 11);
  // OS/2 extended-attribute files use names with embedded spaces on purpose.
  const text = String.fromCharCode(...raw);
  return text === 'EA DATA  SF' || text === 'WP ROOT  SF' ? null : badShortNameReason(raw);
}

function badShortNameReason(raw: Uint8Array): string | null {
  for (let i = 0; i < 11; i++) {
    const b = raw[i]!;
    if ((b < 0x20 && !(i === 0 && b === KANJI_E5_ESCAPE)) || b === 0x7f) return `control character 0x${b.toString(16).padStart(2, '0')}`;
    if (FORBIDDEN.has(b)) return `forbidden character '${String.fromCharCode(b)}'`;
  }
  if (raw[0] === 0x20) return 'leading space';
  for (const [from, to] of [
    [0, 8],
    [8, 11],
  ] as const) {
    let space = false;
    for (let i = from; i < to; i++) {
      if (raw[i] === 0x20) space = true;
      else if (space) return 'space inside the name';
    }
  }
  return null;
}

/** A valid replacement for a bad short name: forbidden bytes become '_'. */
export function sanitizeShortName(raw: Uint8Array): Uint8Array {
  const out = Uint8Array.from(raw);
  for (let i = 0; i < 11; i++) {
    const b = out[i]!;
    if ((b < 0x20 && !(i === 0 && b === KANJI_E5_ESCAPE)) || b === 0x7f || FORBIDDEN.has(b)) out[i] = 0x5f;
  }
  if (out[0] === 0x20) out[0] = 0x5f;
  for (const [from, to] of [
    [0, 8],
    [8, 11],
  ] as const) {
    // Move padding to the end: "A B" becomes "A_B".
    let last = to - 1;
    while (last >= from && out[last] === 0x20) last--;
    for (let i = from; i < last; i++) if (out[i] === 0x20) out[i] = 0x5f;
  }
  return out;
}

/**
 * The short name as text for messages ("NAME.EXT", code page 437 as ls shows it).
 * Control characters stay as they are: the one escaping every name gets happens where
 * the message is printed (escapeName), so nothing is escaped twice.
 */
export function shortNameForMessage(raw: Uint8Array): string {
  const part = (a: number, b: number): string => {
    let s = '';
    for (let i = a; i < b; i++) s += decodeOemChar(raw[i]!);
    return s.replace(/ +$/, '');
  };
  const ext = part(8, 11);
  const base = raw[0] === KANJI_E5_ESCAPE ? decodeOemChar(0xe5) + part(1, 8) : part(0, 8);
  return ext ? `${base}.${ext}` : base;
}
