/**
 * 8.3 short names for new directory entries (fatgen103 section 7, "The Basis-Name
 * Generation Algorithm" and "The Numeric-Tail Generation Algorithm"). Short names are
 * kept as the 11 raw bytes of the directory entry: 8 of base, 3 of extension,
 * space-padded, upper case, in the OEM code page (we write ASCII only; anything else
 * becomes '_' and makes the name lossy).
 */
import { DiskkitError, ErrorCode } from '../errors.js';

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
  return name.replace(/[ .]+$/, '');
}

function isShortChar(c: string): boolean {
  const code = c.charCodeAt(0);
  return code > 0x20 && code < 0x7f && !INVALID_IN_LONG_NAME.test(c) && !INVALID_IN_SHORT_NAME.test(c) && c !== '.';
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
  if (![...base, ...ext].every(isShortChar)) return null;
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
  const upper = longName.toUpperCase();
  const convert = (part: string): string => {
    let out = '';
    for (const c of part) {
      if (c === ' ' || c === '.') {
        lossy = true;
        continue;
      }
      if (isShortChar(c)) out += c;
      else {
        out += '_';
        lossy = true;
      }
    }
    return out;
  };
  const trimmed = upper.replace(/^[. ]+/, () => {
    lossy = true;
    return '';
  });
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
export function generateShortName(longName: string, taken: ReadonlySet<string>): string {
  const exact = exactShortName(longName);
  if (exact && !taken.has(exact.raw)) return exact.raw;
  const { base, ext, lossy } = basisName(longName);
  const extPart = ext.padEnd(3, ' ');
  if (!lossy) {
    const raw = base.padEnd(8, ' ') + extPart;
    if (!taken.has(raw)) return raw;
  }
  for (let n = 1; n <= 999_999; n++) {
    const tail = `~${n}`;
    const raw = (base.slice(0, 8 - tail.length) + tail).padEnd(8, ' ') + extPart;
    if (!taken.has(raw)) return raw;
  }
  throw new DiskkitError(ErrorCode.NO_SPACE, `no free short name for ${JSON.stringify(longName)}`, { context: { name: longName } });
}
