/**
 * FILETIME: 100-nanosecond ticks since 1601-01-01 00:00 UTC (edge case 15), kept as
 * (lo, hi) u32 pairs. Formatted as ISO 8601 UTC with all seven fractional digits,
 * without a Date object (which would drop the sub-millisecond ticks and cannot
 * represent every FILETIME a hostile record may hold).
 */
/** Days from 1601-01-01 to 1970-01-01. */
const DAYS_1601_TO_1970 = 134774;
const TICKS_PER_SECOND = 1e7;

/** Splits ticks into whole seconds since 1601 and the remaining ticks, exactly. */
function split(lo: number, hi: number): [number, number] {
  if (hi < 0x40000000) {
    // 2^32 = 429 * 10^7 + 4967296; hi * 4967296 + lo stays below 2^53 for hi < 2^30.
    const rest = hi * 4967296 + lo;
    return [hi * 429 + Math.floor(rest / TICKS_PER_SECOND), rest % TICKS_PER_SECOND];
  }
  const ticks = (BigInt(hi) << 32n) | BigInt(lo);
  return [Number(ticks / 10_000_000n), Number(ticks % 10_000_000n)];
}

/** Civil date from days since 1970-01-01 (H. Hinnant's days_from_civil inverse). */
function civil(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

const DIGITS = 0x30;

/**
 * Formatting is the hot spot of JSONL output (eight times per row), so the
 * "YYYY-MM-DDThh:mm:ss." prefix of the last whole second is kept: files made
 * together share their second, and then only the seven fractional digits are new.
 * The prefix is kept padded to whole words (`lastPrefixWords`) for word copies.
 */
let lastSeconds = NaN;
const lastPrefix = new Uint8Array(32);
const lastPrefixWords = new DataView(lastPrefix.buffer);
let lastPrefixLength = 0;

function formatPrefix(seconds: number): void {
  const days = Math.floor(seconds / 86400);
  let sod = seconds - days * 86400;
  const [y, m, d] = civil(days - DAYS_1601_TO_1970);
  const hh = Math.floor(sod / 3600);
  sod -= hh * 3600;
  const mm = Math.floor(sod / 60);
  const ss = sod - mm * 60;
  const two = (n: number): string => String(n).padStart(2, '0');
  const s = `${y > 9999 ? String(y) : String(y).padStart(4, '0')}-${two(m)}-${two(d)}T${two(hh)}:${two(mm)}:${two(ss)}.`;
  lastPrefixLength = s.length;
  for (let i = 0; i < s.length; i++) lastPrefix[i] = s.charCodeAt(i);
  lastSeconds = seconds;
}

/** "00".."99" as little-endian 16-bit words (two ASCII digits each). */
const DIGIT_PAIR_WORDS = Uint16Array.from({ length: 100 }, (_, n) => (DIGITS + Math.floor(n / 10)) | ((DIGITS + (n % 10)) << 8));

/**
 * Writes the ISO form ("YYYY-MM-DDThh:mm:ss.fffffffZ", 28 bytes for years 1601..9999)
 * into `out` (viewed by `dv` too) at `at`; returns the new offset. `out` must have 44
 * bytes free (the prefix is copied in whole words).
 */
export function writeFiletimeIsoWords(out: Uint8Array, dv: DataView, at: number, lo: number, hi: number): number {
  let seconds: number;
  let frac: number;
  if (hi < 0x40000000) {
    // 2^32 = 429 * 10^7 + 4967296; hi * 4967296 + lo stays below 2^53 for hi < 2^30.
    const rest = hi * 4967296 + lo;
    const q = Math.floor(rest / TICKS_PER_SECOND);
    seconds = hi * 429 + q;
    frac = rest - q * TICKS_PER_SECOND;
  } else {
    [seconds, frac] = split(lo, hi);
  }
  if (seconds !== lastSeconds) formatPrefix(seconds);
  const n = lastPrefixLength;
  for (let i = 0; i < n; i += 4) dv.setUint32(at + i, lastPrefixWords.getUint32(i, true), true);
  at += n;
  writeFraction(out, dv, at, frac);
  out[at + 7] = 0x5a;
  return at + 8;
}

/** The seven fractional digits of frac (< 10^7) at out[at..at+7): one digit, then pairs from the table. */
function writeFraction(out: Uint8Array, dv: DataView, at: number, frac: number): void {
  const f = frac | 0;
  const top = (f / 1000000) | 0;
  let rest = f - top * 1000000;
  out[at] = DIGITS + top;
  const a = (rest / 10000) | 0;
  rest -= a * 10000;
  const b = (rest / 100) | 0;
  dv.setUint16(at + 1, DIGIT_PAIR_WORDS[a]!, true);
  dv.setUint16(at + 3, DIGIT_PAIR_WORDS[b]!, true);
  dv.setUint16(at + 5, DIGIT_PAIR_WORDS[rest - b * 100]!, true);
}

/** Bytes of the ISO form of a FILETIME whose high word is below ISO_28_HI_LIMIT. */
export const ISO_28_LENGTH = 28;
/**
 * FILETIMEs with a high word below this are before the year 10000, so their ISO form
 * is 28 bytes ("YYYY-MM-DDThh:mm:ss.fffffffZ"; FILETIME 0 is 1601).
 */
export const ISO_28_HI_LIMIT = Number(((BigInt(Date.UTC(10000, 0, 1)) * 10000n + BigInt(DAYS_1601_TO_1970) * 86400n * 10_000_000n) >> 32n));

/** Whole seconds since 1601 of a FILETIME whose high word is below ISO_28_HI_LIMIT. */
export function filetimeSeconds28(lo: number, hi: number): number {
  return hi * 429 + Math.floor((hi * 4967296 + lo) / TICKS_PER_SECOND);
}

/**
 * Rewrites the 28-byte ISO time at out[at..at+28), which holds a time of second
 * `heldSeconds`, as the FILETIME (lo, hi) (high word below ISO_28_HI_LIMIT): only the
 * fractional digits when the second is the same. Returns the new time's second.
 */
export function overwriteFiletimeIso28(out: Uint8Array, dv: DataView, at: number, lo: number, hi: number, heldSeconds: number): number {
  // As in writeFiletimeIsoWords: exact for hi < 2^30.
  const rest = hi * 4967296 + lo;
  const q = Math.floor(rest / TICKS_PER_SECOND);
  const seconds = hi * 429 + q;
  if (seconds !== heldSeconds) writeFiletimeIsoWords(out, dv, at, lo, hi);
  else writeFraction(out, dv, at + 20, rest - q * TICKS_PER_SECOND);
  return seconds;
}

/**
 * Writes the ISO form ("YYYY-MM-DDThh:mm:ss.fffffffZ", 28 bytes for years 1601..9999)
 * into `out` at `at`; returns the new offset. `out` must have 44 bytes free.
 */
export function writeFiletimeIso(out: Uint8Array, at: number, lo: number, hi: number): number {
  return writeFiletimeIsoWords(out, new DataView(out.buffer, out.byteOffset, out.byteLength), at, lo, hi);
}

/** The ISO string of a FILETIME (tests, summaries). */
export function filetimeToIso(lo: number, hi: number): string {
  const out = new Uint8Array(48);
  const end = writeFiletimeIso(out, 0, lo, hi);
  return Buffer.from(out.subarray(0, end)).toString('latin1');
}

/** Whole seconds since the Unix epoch (may be negative), for bodyfile output. */
export function filetimeToUnixSeconds(lo: number, hi: number): number {
  return split(lo, hi)[0] - DAYS_1601_TO_1970 * 86400;
}

/** FILETIME of an ISO date/time (tests and builders): bigint ticks. */
export function filetimeFromIso(iso: string, extraTicks = 0): bigint {
  const ms = Date.parse(iso);
  return BigInt(ms) * 10_000n + BigInt(DAYS_1601_TO_1970) * 86400n * 10_000_000n + BigInt(extraTicks);
}

/** Milliseconds between 1601-01-01 and 1970-01-01. */
const FILETIME_EPOCH_MS = DAYS_1601_TO_1970 * 86_400_000;

/** The little-endian FILETIME at `at` of `dv` in ms since 1970 (sub-millisecond ticks dropped); NaN for 0, which means "not set". */
export function filetimeMsAt(dv: DataView, at: number): number {
  const ticks = dv.getUint32(at + 4, true) * 4294967296 + dv.getUint32(at, true);
  return ticks === 0 ? NaN : Math.floor(ticks / 10000) - FILETIME_EPOCH_MS;
}
