/**
 * Update sequence array ("fixups"), NTFS's torn-write detector. Before a multi-sector
 * structure is written, the last two bytes of every 512-byte stride are saved in the
 * array and replaced by the update sequence number; a reader checks and restores
 * them. The stride is 512 bytes whatever the sector size (edge case 3). The array's
 * offset and count are checked against the record before any byte is touched.
 */
export const FIXUP_STRIDE = 512;

export const FixupStatus = {
  OK: 0,
  /** A stride's last two bytes differ from the sequence number: the write was torn. */
  TORN: 1,
  /** The array's offset or count does not fit the record: nothing was touched. */
  BAD_ARRAY: 2,
} as const;
export type FixupStatusValue = (typeof FixupStatus)[keyof typeof FixupStatus];

/** The array holds one entry per stride plus the sequence number, inside the first stride. */
function arrayFits(size: number, usaOffset: number, usaCount: number): boolean {
  return usaCount === size / FIXUP_STRIDE + 1 && usaOffset >= 8 && (usaOffset & 1) === 0 && usaOffset + 2 * usaCount <= FIXUP_STRIDE - 2;
}

/**
 * Checks and restores the strides of the structure at `buf[offset..offset+size)` in
 * place. `usaOffset`/`usaCount` come from the header (count includes the sequence
 * number itself). Strides whose check bytes match are restored even when another is
 * torn, so that a torn record can still be shown for what it is.
 */
export function applyFixups(buf: Uint8Array, offset: number, size: number, usaOffset: number, usaCount: number): FixupStatusValue {
  if (!arrayFits(size, usaOffset, usaCount)) return FixupStatus.BAD_ARRAY;
  const strides = size / FIXUP_STRIDE;
  const usa = offset + usaOffset;
  const usn0 = buf[usa]!;
  const usn1 = buf[usa + 1]!;
  let status: FixupStatusValue = FixupStatus.OK;
  for (let i = 0; i < strides; i++) {
    const end = offset + i * FIXUP_STRIDE + FIXUP_STRIDE - 2;
    if (buf[end] !== usn0 || buf[end + 1] !== usn1) {
      status = FixupStatus.TORN;
      continue;
    }
    buf[end] = buf[usa + 2 + 2 * i]!;
    buf[end + 1] = buf[usa + 3 + 2 * i]!;
  }
  return status;
}

/**
 * applyFixups without writing: the status only. A reader that uses no byte at a
 * stride's end (a record whose used part ends before the first one) needs nothing
 * restored, and can then read a buffer it must not change (a memory mapping).
 */
export function checkFixups(buf: Uint8Array, offset: number, size: number, usaOffset: number, usaCount: number): FixupStatusValue {
  if (!arrayFits(size, usaOffset, usaCount)) return FixupStatus.BAD_ARRAY;
  const usa = offset + usaOffset;
  const usn0 = buf[usa]!;
  const usn1 = buf[usa + 1]!;
  for (let i = 0; i < size / FIXUP_STRIDE; i++) {
    const end = offset + i * FIXUP_STRIDE + FIXUP_STRIDE - 2;
    if (buf[end] !== usn0 || buf[end + 1] !== usn1) return FixupStatus.TORN;
  }
  return FixupStatus.OK;
}

/**
 * The inverse, for builders and the synthetic-MFT generator: saves each stride's last
 * two bytes in the array and stamps the sequence number there.
 */
export function encodeFixups(buf: Uint8Array, offset: number, size: number, usaOffset: number, usn: number): void {
  const strides = size / FIXUP_STRIDE;
  const usa = offset + usaOffset;
  buf[usa] = usn & 0xff;
  buf[usa + 1] = (usn >>> 8) & 0xff;
  for (let i = 0; i < strides; i++) {
    const end = offset + i * FIXUP_STRIDE + FIXUP_STRIDE - 2;
    buf[usa + 2 + 2 * i] = buf[end]!;
    buf[usa + 3 + 2 * i] = buf[end + 1]!;
    buf[end] = usn & 0xff;
    buf[end + 1] = (usn >>> 8) & 0xff;
  }
}
