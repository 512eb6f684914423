/**
 * $UpCase (MFT record 10): the volume's own upper-case table, 65,536 UTF-16 code
 * units, which NTFS uses to compare names (names differing only in case are the same
 * entry). Volume.nameKey maps every code unit of a name through it, so commands
 * compare names exactly as this volume does, not as JavaScript's toUpperCase would.
 */
export const UPCASE_ENTRIES = 65536;
export const UPCASE_BYTES = UPCASE_ENTRIES * 2;

export type UpcaseTable = Uint16Array;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Decodes the table; a short or missing table falls back to identity past its end. */
export function decodeUpcase(bytes: Uint8Array | null): UpcaseTable {
  const table = new Uint16Array(UPCASE_ENTRIES);
  const n = bytes ? Math.min(UPCASE_ENTRIES, bytes.length >>> 1) : 0;
  // On a little-endian host the stored table is the array's own bytes: one copy. Two
  // loops of 65,536 steps ran in the interpreter and then got compiled on the spot,
  // at every start of a command that compares a name (cp -r profiles showed it).
  if (n > 0 && LITTLE_ENDIAN) new Uint8Array(table.buffer).set(bytes!.subarray(0, 2 * n));
  else for (let i = 0; i < n; i++) table[i] = bytes![2 * i]! | (bytes![2 * i + 1]! << 8);
  for (let i = n; i < UPCASE_ENTRIES; i++) table[i] = i;
  return table;
}

/** The name with every UTF-16 code unit upper-cased through the table. */
export function upcaseName(table: UpcaseTable, name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) out += String.fromCharCode(table[name.charCodeAt(i)]!);
  return out;
}
