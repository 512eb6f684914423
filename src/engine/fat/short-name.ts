/**
 * 8.3 short names for new directory entries (fatgen103 section 7, "The Basis-Name
 * Generation Algorithm" and "The Numeric-Tail Generation Algorithm"). Short names are
 * kept as the 11 raw bytes of the directory entry: 8 of base, 3 of extension,
 * space-padded, upper case, in the OEM code page (we write ASCII only; anything else
 * becomes '_' and makes the name lossy).
 */
import { DiskkitError, ErrorCode } from '../errors.js';
import { foldName } from './directory.js';

/** Characters never allowed in any FAT name (fatgen103 section 6.1 and 7). */
const INVALID_IN_LONG_NAME = /[\u0000-\u001f"*/:<>?\\|\u007f]/;
/** Further characters that a long name may hold but a short name may not. */
const INVALID_IN_SHORT_NAME = /[+,;=[\]]/;
/** The longest long name: 255 UTF-16 code units (fatgen103 section 7). */
export const MAX_LONG_NAME_UNITS = 255;

/** Throws E_BAD_NAME when `name` cannot be stored as a FAT long name. */
export function validateLongName(name: string): void {
  const problem =
    name.length === 0
      ? 'is empty'
      : name === '.' || name === '..'
        ? 'is reserved'
        : name.length > MAX_LONG_NAME_UNITS
          ? `is longer than ${MAX_LONG_NAME_UNITS} characters`
          : INVALID_IN_LONG_NAME.test(name)
            ? 'contains a character FAT does not allow (" * / : < > ? \\ | or a control character)'
            : canonicalLongName(name) === ''
              ? 'has only dots and spaces'
              : null;
  if (problem) throw new DiskkitError(ErrorCode.BAD_NAME, `name ${JSON.stringify(name)} ${problem}`, { context: { name } });
}

/** Windows drops trailing dots and spaces from long names; we store what Windows would. */
export function canonicalLongName(name: string): string {
  // Most names end in neither: no regular expression (and no new string) for them.
  const last = name.charCodeAt(name.length - 1);
  return last === 0x20 || last === 0x2e ? name.replace(/[ .]+$/, '') : name;
}

/** Which ASCII codes a short name may hold (a table: names are checked a character at a time). */
const SHORT_CHAR_CODES = Uint8Array.from({ length: 0x80 }, (_, code) => {
  const c = String.fromCharCode(code);
  return code > 0x20 && code < 0x7f && !INVALID_IN_LONG_NAME.test(c) && !INVALID_IN_SHORT_NAME.test(c) && c !== '.' ? 1 : 0;
});

function isShortCode(code: number): boolean {
  return code < 0x80 && SHORT_CHAR_CODES[code] === 1;
}

/**
 * When `name` is itself a valid 8.3 name in one case per part (e.g. "README.TXT",
 * "readme.txt", "Makefile" is not: mixed case), returns its 11 raw bytes and the NT
 * lower-case flags (0x08 base, 0x10 extension) that restore the spelling; else null,
 * and the entry needs a long name.
 */
export function exactShortName(name: string): { raw: string; ntCase: number } | null {
  const dot = name.lastIndexOf('.');
  const base = dot === -1 ? name : name.slice(0, dot);
  const ext = dot === -1 ? '' : name.slice(dot + 1);
  if (base.length === 0 || base.length > 8 || ext.length > 3 || (dot !== -1 && ext.length === 0)) return null;
  for (let i = 0; i < name.length; i++) if (i !== dot && !isShortCode(name.charCodeAt(i))) return null;
  const caseOf = (part: string): 'upper' | 'lower' | 'none' | 'mixed' => {
    const up = part.toUpperCase();
    const low = part.toLowerCase();
    if (up === low) return 'none';
    if (part === up) return 'upper';
    if (part === low) return 'lower';
    return 'mixed';
  };
  const baseCase = caseOf(base);
  const extCase = caseOf(ext);
  if (baseCase === 'mixed' || extCase === 'mixed') return null;
  const raw = base.toUpperCase().padEnd(8, ' ') + ext.toUpperCase().padEnd(3, ' ');
  return { raw, ntCase: (baseCase === 'lower' ? 0x08 : 0) | (extCase === 'lower' ? 0x10 : 0) };
}

/**
 * The basis name of fatgen103 section 7: upper-cased, spaces and leading dots
 * stripped, invalid characters replaced by '_', base cut to 8 and extension (after
 * the last dot) to 3. `lossy` is set when anything was lost or changed beyond case.
 */
export function basisName(longName: string): { base: string; ext: string; lossy: boolean } {
  let lossy = false;
  // One character to one ('ß' stays 'ß', and so becomes '_'): toUpperCase's 'SS'
  // would give a short name that another program finds under the name SS.
  const upper = foldName(longName);
  const convert = (part: string): string => {
    let out = '';
    for (let i = 0; i < part.length; i++) {
      const code = part.charCodeAt(i);
      if (code === 0x20 || code === 0x2e) {
        lossy = true;
        continue;
      }
      if (isShortCode(code)) out += part[i];
      else {
        out += '_';
        lossy = true;
        // A character outside the BMP is one '_' (its two UTF-16 units are one character).
        if (code >= 0xd800 && code <= 0xdbff && i + 1 < part.length) {
          const next = part.charCodeAt(i + 1);
          if (next >= 0xdc00 && next <= 0xdfff) i++;
        }
      }
    }
    return out;
  };
  let lead = 0;
  while (lead < upper.length && (upper.charCodeAt(lead) === 0x2e || upper.charCodeAt(lead) === 0x20)) lead++;
  if (lead > 0) lossy = true;
  const trimmed = lead > 0 ? upper.slice(lead) : upper;
  const dot = trimmed.lastIndexOf('.');
  let base = convert(dot === -1 ? trimmed : trimmed.slice(0, dot));
  let ext = dot === -1 ? '' : convert(trimmed.slice(dot + 1));
  if (base.length > 8) {
    base = base.slice(0, 8);
    lossy = true;
  }
  if (ext.length > 3) {
    ext = ext.slice(0, 3);
    lossy = true;
  }
  if (base.length === 0) {
    base = '_';
    lossy = true;
  }
  return { base, ext, lossy };
}

/**
 * Generates the 11 raw bytes of a short name for `longName`, unique against `taken`
 * (a set of raw 11-byte names already in the directory). Numeric tails "~1".."~999999"
 * follow fatgen103 section 7; the base is shortened to make room for the tail.
 */
export function generateShortName(
  longName: string,
  taken: ReadonlySet<string>,
  firstTail = 1,
  known?: { exact: ReturnType<typeof exactShortName>; basis: ReturnType<typeof basisName> },
): string {
  // `known`: the caller computed these already for this name (directory-writer.ts nameFor).
  const exact = known ? known.exact : exactShortName(longName);
  if (exact && !taken.has(exact.raw)) return exact.raw;
  const { base, ext, lossy } = known ? known.basis : basisName(longName);
  const extPart = ext.padEnd(3, ' ');
  if (!lossy) {
    const raw = base.padEnd(8, ' ') + extPart;
    if (!taken.has(raw)) return raw;
  }
  // `firstTail` lets a caller that creates many similar names start past tails it knows
  // are taken; the search wraps round to 1 so a free lower tail is still found.
  const start = Math.max(1, Math.min(firstTail, 999_999));
  for (let i = 0; i < 999_999; i++) {
    const n = ((start - 1 + i) % 999_999) + 1;
    const tail = `~${n}`;
    const raw = (base.slice(0, 8 - tail.length) + tail).padEnd(8, ' ') + extPart;
    if (!taken.has(raw)) return raw;
  }
  throw new DiskkitError(ErrorCode.NO_SPACE, `no free short name for ${JSON.stringify(longName)}`, { context: { name: longName } });
}
