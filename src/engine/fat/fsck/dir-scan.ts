/**
 * One pass over a directory's 32-byte slots for the check (fatgen103 sections 6 and 7):
 * live short entries with the long name that validly precedes them, and the runs of
 * long-name slots that belong to no entry (out of order, wrong checksum, cut off).
 * Unlike the read path's parser it reports the exact slots of every broken run, so
 * the repair can delete them.
 */
import { Attr, DELETED_MARK, DIR_ENTRY_SIZE, KANJI_E5_ESCAPE } from '../dir-entry.js';
import { LAST_LONG_ENTRY, MAX_LONG_NAME_SLOTS, decodeLongNameSlot, shortNameChecksum } from '../long-name.js';

export interface ScannedEntry {
  slot: number;
  /** Slot of the first long-name slot, or `slot` when there is no valid long name. */
  firstSlot: number;
  longName: string | null;
}

export interface OrphanRun {
  slots: number[];
  why: string;
}

export interface ScanResult {
  entries: ScannedEntry[];
  orphans: OrphanRun[];
  /** Long-name slots whose reserved fields are not 0 (LDIR_Type at 12, LDIR_FstClusLO at 26; fatgen103 section 7). */
  lfnReserved: number[];
}

/** Scans `slotCount` slots of `bytes`. Stops at the end marker. */
export function scanDirectorySlots(bytes: Uint8Array, slotCount: number): ScanResult {
  const entries: ScannedEntry[] = [];
  const orphans: OrphanRun[] = [];
  const lfnReserved: number[] = [];
  let run: number[] = [];
  let runWhy: string | null = null;
  let expected = 0;
  let checksum = -1;
  const drop = (why: string): void => {
    if (run.length > 0) orphans.push({ slots: run, why: runWhy ?? why });
    run = [];
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
      if (bytes[at + 12] !== 0 || bytes[at + 26] !== 0 || bytes[at + 27] !== 0) lfnReserved.push(slot);
      if (order & LAST_LONG_ENTRY) {
        drop('long-name slots not followed by their entry');
        run = [slot];
        checksum = sum;
        expected = seq - 1;
        if (seq < 1 || seq > MAX_LONG_NAME_SLOTS || (order & 0x80) !== 0) runWhy = `long-name slot has sequence number ${seq}`;
        continue;
      }
      if (run.length === 0) {
        run = [slot];
        runWhy = 'long-name slot without the first slot of its name';
        continue;
      }
      run.push(slot);
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
    let longName: string | null = null;
    let firstSlot = slot;
    if (run.length > 0) {
      const isDot = first === 0x2e;
      let why = runWhy;
      if (why === null && expected !== 0) why = 'long-name slots out of order (a slot is missing)';
      if (why === null && isDot) why = 'long-name slots before a dot entry';
      if (why === null && checksum !== shortNameChecksum(bytes.subarray(at, at + 11))) why = 'long-name checksum does not match its short entry';
      if (why === null) {
        longName = decodeName(bytes, run);
        if (longName === null) why = 'long name is empty';
      }
      if (why !== null) {
        orphans.push({ slots: run, why });
      } else firstSlot = run[0]!;
      run = [];
      runWhy = null;
    }
    entries.push({ slot, firstSlot, longName });
  }
  drop('long-name slots at the end of the directory without their entry');
  return { entries, orphans, lfnReserved };
}

function decodeName(bytes: Uint8Array, run: number[]): string | null {
  const units: number[] = [];
  for (let i = run.length - 1; i >= 0; i--) units.push(...decodeLongNameSlot(bytes, run[i]! * DIR_ENTRY_SIZE).units);
  let end = units.indexOf(0);
  if (end === -1) end = units.length;
  while (end > 0 && units[end - 1] === 0xffff) end--;
  return end > 0 ? String.fromCharCode(...units.slice(0, end)) : null;
}

/** Characters fsck.fat and DOS refuse in a short name (besides control characters and 0x7F). */
const FORBIDDEN = new Set([...'*?<>|"\\/:'].map((c) => c.charCodeAt(0)));

/**
 * Why an 11-byte short name is invalid, or null (fatgen103 section 6.1: no control
 * characters, none of the forbidden punctuation, no leading space, no space inside
 * the base or the extension followed by another character).
 */
export function badShortName(raw: Uint8Array): string | null {
  // OS/2 extended-attribute files use names with embedded spaces on purpose.
  const why = badShortNameReason(raw);
  if (why === null) return null;
  const text = String.fromCharCode(...raw);
  return text === 'EA DATA  SF' || text === 'WP ROOT  SF' ? null : why;
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

/** The short name as printable text for messages ("NAME.EXT"), bytes outside ASCII shown as \xNN. */
export function shortNameForMessage(raw: Uint8Array): string {
  const part = (a: number, b: number): string => {
    let s = '';
    for (let i = a; i < b; i++) {
      const c = raw[i]!;
      s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
    }
    return s.replace(/ +$/, '');
  };
  const ext = part(8, 11);
  const base = raw[0] === KANJI_E5_ESCAPE ? '\\xe5' + part(1, 8) : part(0, 8);
  return ext ? `${base}.${ext}` : base;
}
