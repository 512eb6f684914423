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

/**
 * A decoded run list without an object per run: what the volume reader keeps for a
 * non-resident attribute (a fragmented file has thousands of runs; an object each cost
 * more than reading them, garbage collection included).
 */
export interface RunList {
  /** Number of runs. */
  count: number;
  /** vcn[i] = first virtual cluster of run i; vcn[count] = the cluster after the last run. */
  vcn: Float64Array;
  /** lcn[i] = first logical cluster of run i, or -1 for a sparse run. */
  lcn: Float64Array;
  /** Whether any run is sparse. */
  sparse: boolean;
}

function outsideVolume(lcn: number, length: number, clusterCount: number): DiskkitError {
  return new DiskkitError(ErrorCode.BAD_RECORD, `data run points outside the volume (clusters ${lcn}..${lcn + length}, volume has ${clusterCount})`, {
    context: { cluster: lcn, length, clusterCount },
  });
}

/**
 * Decodes the run list in `buf[start..end)`, starting at virtual cluster `startVcn`,
 * into typed arrays: no call and no allocation per run; the arrays hold as many runs as
 * the bytes do (at most MAX_RUNS), never what the runs claim. Throws E_BAD_RECORD when
 * a run overflows `end`, has a zero length or a field past 53 bits, points below
 * cluster 0 or at or past `clusterCount` (when given), or when the virtual clusters run
 * past 2^53.
 */
export function decodeRunList(buf: Uint8Array, start: number, end: number, startVcn = 0, clusterCount = Infinity): RunList {
  // The runs are counted first (a header byte gives the run's size), so the arrays are as
  // long as the list: no copy, no slack kept by every attribute a listing decodes.
  let capacity = 0;
  for (let at = start; at < end && buf[at] !== 0 && capacity <= MAX_RUNS; at += 1 + (buf[at]! & 0x0f) + (buf[at]! >>> 4)) capacity++;
  const vcns = new Float64Array(capacity + 1);
  const lcns = new Float64Array(capacity);
  let at = start;
  let vcn = startVcn;
  let lcn = 0;
  let count = 0;
  let sparse = false;
  while (at < end) {
    const header = buf[at]!;
    if (header === 0) {
      vcns[count] = vcn;
      return { count, vcn: vcns, lcn: lcns, sparse };
    }
    const lengthSize = header & 0x0f;
    const offsetSize = header >>> 4;
    if (lengthSize === 0 || lengthSize > 8 || offsetSize > 8) throw badRuns(`header byte 0x${header.toString(16)}`, at);
    const next = at + 1 + lengthSize + offsetSize;
    if (next > end) throw badRuns('run overflows the attribute', at);
    // Little-endian fields, exact below 2^53 (checked after).
    let length = 0;
    let scale = 1;
    for (let i = at + 1; i < at + 1 + lengthSize; i++) {
      length += buf[i]! * scale;
      scale *= 256;
    }
    if (!Number.isSafeInteger(length)) throw badRuns(`a ${lengthSize}-byte field does not fit 53 bits`, at + 1);
    if (length <= 0) throw badRuns('zero-length run', at);
    if (count === MAX_RUNS) throw badRuns(`more than ${MAX_RUNS} runs`, at);
    if (offsetSize > 0) {
      let delta = 0;
      scale = 1;
      for (let i = at + 1 + lengthSize; i < next; i++) {
        delta += buf[i]! * scale;
        scale *= 256;
      }
      if (buf[next - 1]! & 0x80) delta -= scale;
      if (!Number.isSafeInteger(delta)) throw badRuns(`a ${offsetSize}-byte field does not fit 53 bits`, at + 1 + lengthSize);
      lcn += delta;
      if (lcn < 0 || lcn + length > clusterCount) throw outsideVolume(lcn, length, clusterCount);
      lcns[count] = lcn;
    } else {
      lcns[count] = -1;
      sparse = true;
    }
    vcns[count] = vcn;
    vcn += length;
    if (!Number.isSafeInteger(vcn)) throw badRuns('runs reach past virtual cluster 2^53', at);
    count++;
    at = next;
  }
  throw badRuns('no terminating zero byte', at);
}

/** A run list as one object per run (for builders, tests and the few short lists of $MFT). */
export function runObjects(list: RunList): DataRun[] {
  const runs: DataRun[] = [];
  for (let i = 0; i < list.count; i++) {
    const lcn = list.lcn[i]!;
    runs.push({ vcn: list.vcn[i]!, lcn: lcn < 0 ? null : lcn, length: list.vcn[i + 1]! - list.vcn[i]! });
  }
  return runs;
}

/**
 * Decodes the run list in `buf[start..end)` into one object per run; the same checks
 * and errors as decodeRunList.
 */
export function decodeDataRuns(buf: Uint8Array, start: number, end: number, startVcn = 0, clusterCount = Infinity): DataRun[] {
  return runObjects(decodeRunList(buf, start, end, startVcn, clusterCount));
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
