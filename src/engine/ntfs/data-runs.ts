/**
 * Data runs (the "mapping pairs" of a non-resident attribute; Linux-NTFS
 * documentation, "Data runs"). Each run starts with a header byte: the low nibble
 * is the size of the length field, the high nibble the size of the LCN field. The
 * LCN is a signed delta from the previous run's LCN (edge case 7); a run without an
 * LCN field is sparse. A zero header byte ends the list.
 */
import { DiskkitError, ErrorCode } from '../errors.js';

export interface DataRun {
  /** First virtual cluster of the run within the attribute. */
  vcn: number;
  /** First logical cluster on the volume, or null for a sparse run. */
  lcn: number | null;
  /** Length in clusters. */
  length: number;
}

/** A run list longer than this is treated as hostile. A 1 KiB record holds at most ~500 runs anyway. */
export const MAX_RUNS = 65536;

function badRuns(message: string, offset: number): DiskkitError {
  return new DiskkitError(ErrorCode.BAD_RECORD, `bad data run list: ${message}`, { context: { offset } });
}

/** Reads a little-endian integer of `size` bytes (size <= 8); signed when `signed`. Stays exact below 2^53. */
function readVarInt(buf: Uint8Array, at: number, size: number, signed: boolean): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < size; i++) {
    value += buf[at + i]! * scale;
    scale *= 256;
  }
  if (signed && size > 0 && buf[at + size - 1]! & 0x80) value -= scale;
  if (!Number.isSafeInteger(value)) throw badRuns(`a ${size}-byte field does not fit 53 bits`, at);
  return value;
}

/**
 * Decodes the run list in `buf[start..end)`, starting at virtual cluster `startVcn`.
 * Throws E_BAD_RECORD when a run overflows `end`, has a zero length, or points below
 * cluster 0 or at or past `clusterCount` (when given).
 */
export function decodeDataRuns(buf: Uint8Array, start: number, end: number, startVcn = 0, clusterCount = Infinity): DataRun[] {
  const runs: DataRun[] = [];
  let at = start;
  let vcn = startVcn;
  let lcn = 0;
  while (at < end) {
    const header = buf[at]!;
    if (header === 0) return runs;
    const lengthSize = header & 0x0f;
    const offsetSize = header >>> 4;
    if (lengthSize === 0 || lengthSize > 8 || offsetSize > 8) throw badRuns(`header byte 0x${header.toString(16)}`, at);
    if (at + 1 + lengthSize + offsetSize > end) throw badRuns('run overflows the attribute', at);
    const length = readVarInt(buf, at + 1, lengthSize, false);
    if (length <= 0) throw badRuns('zero-length run', at);
    let runLcn: number | null = null;
    if (offsetSize > 0) {
      lcn += readVarInt(buf, at + 1 + lengthSize, offsetSize, true);
      if (lcn < 0 || lcn + length > clusterCount) {
        throw new DiskkitError(ErrorCode.BAD_RECORD, `data run points outside the volume (clusters ${lcn}..${lcn + length}, volume has ${clusterCount})`, {
          context: { cluster: lcn, length, clusterCount },
        });
      }
      runLcn = lcn;
    }
    runs.push({ vcn, lcn: runLcn, length });
    if (runs.length > MAX_RUNS) throw badRuns(`more than ${MAX_RUNS} runs`, at);
    vcn += length;
    at += 1 + lengthSize + offsetSize;
  }
  throw badRuns('no terminating zero byte', at);
}

function byteSize(value: number, signed: boolean): number {
  let size = 1;
  if (signed) {
    while (size < 8 && !(value >= -(2 ** (8 * size - 1)) && value < 2 ** (8 * size - 1))) size++;
  } else {
    while (size < 8 && value >= 2 ** (8 * size)) size++;
  }
  return size;
}

/** Encodes runs (for builders and the synthetic-MFT generator); returns the bytes including the terminating zero. */
export function encodeDataRuns(runs: readonly DataRun[]): Uint8Array {
  const out: number[] = [];
  let prev = 0;
  for (const run of runs) {
    // The length is written as a signed number too (a run of 207 clusters takes two bytes,
    // `cf 00`), as mkntfs and ntfs-3g write it: test/mft-builder-golden.test.ts checks real records.
    const lengthSize = byteSize(run.length, true);
    const delta = run.lcn === null ? 0 : run.lcn - prev;
    const offsetSize = run.lcn === null ? 0 : byteSize(delta, true);
    out.push(lengthSize | (offsetSize << 4));
    let v = run.length;
    for (let i = 0; i < lengthSize; i++) {
      out.push(v % 256);
      v = Math.floor(v / 256);
    }
    let d = delta;
    for (let i = 0; i < offsetSize; i++) {
      const b = ((d % 256) + 256) % 256;
      out.push(b);
      d = (d - b) / 256;
    }
    if (run.lcn !== null) prev = run.lcn;
  }
  out.push(0);
  return Uint8Array.from(out);
}

export const RunCheck = {
  OK: 0,
  /** A run overflows the attribute, has a bad header or a zero length, or the list is not terminated. */
  MALFORMED: 1,
  /** A run points below cluster 0 or past the end of the volume. */
  OUTSIDE_VOLUME: 2,
} as const;

/**
 * The allocation-free check the indexer runs on every non-resident attribute: the
 * same rules as `decodeDataRuns`, returning a RunCheck code instead of runs.
 */
export function checkDataRuns(buf: Uint8Array, start: number, end: number, clusterCount: number): number {
  let at = start;
  let lcn = 0;
  let runs = 0;
  while (at < end) {
    const header = buf[at]!;
    if (header === 0) return RunCheck.OK;
    const lengthSize = header & 0x0f;
    const offsetSize = header >>> 4;
    if (lengthSize === 0 || lengthSize > 8 || offsetSize > 8 || at + 1 + lengthSize + offsetSize > end) return RunCheck.MALFORMED;
    let length = 0;
    let scale = 1;
    for (let i = 0; i < lengthSize; i++) {
      length += buf[at + 1 + i]! * scale;
      scale *= 256;
    }
    if (length <= 0 || !Number.isSafeInteger(length)) return RunCheck.MALFORMED;
    if (offsetSize > 0) {
      let delta = 0;
      scale = 1;
      const o = at + 1 + lengthSize;
      for (let i = 0; i < offsetSize; i++) {
        delta += buf[o + i]! * scale;
        scale *= 256;
      }
      if (buf[o + offsetSize - 1]! & 0x80) delta -= scale;
      lcn += delta;
      if (!Number.isSafeInteger(lcn) || lcn < 0 || lcn + length > clusterCount) return RunCheck.OUTSIDE_VOLUME;
    }
    if (++runs > MAX_RUNS) return RunCheck.MALFORMED;
    at += 1 + lengthSize + offsetSize;
  }
  return RunCheck.MALFORMED;
}
