// Structure-aware mutations of raw NTFS volume images for scripts/fuzz.js (the judging,
// limits, batching and state live there; this module only knows where NTFS keeps what).
// ntfsLayout(bytes) maps a base image once: boot sector, MFT records (fixups applied in a
// copy), their attributes, run lists, $ATTRIBUTE_LIST entries, $I30 index entries (in
// $INDEX_ROOT values and INDX blocks) and the clusters of LZNT1-compressed streams.
// mutateNtfsVolume(layout, rnd, edit) then damages one of those structures the way a
// hostile image would. Bytes that sit at a 512-byte stride end of a record or an INDX
// block are written to their update-sequence slot instead, so a field mutation stays a
// field mutation (the fixup still matches) unless the mutation is of the fixup itself.

const ATTR = { STANDARD_INFORMATION: 0x10, ATTRIBUTE_LIST: 0x20, FILE_NAME: 0x30, DATA: 0x80, INDEX_ROOT: 0x90, INDEX_ALLOCATION: 0xa0, BITMAP: 0xb0, END: 0xffffffff };

/** A copy of the multi-sector block at `at` with its fixups applied, or null when its update sequence is unusable. */
function fixedBlock(b, at, size) {
  if (at + size > b.length) return null;
  const block = Buffer.from(b.subarray(at, at + size));
  const usaOff = block.readUInt16LE(4);
  const usaCount = block.readUInt16LE(6);
  if (usaCount < 1 || usaOff + 2 * usaCount > size || (usaCount - 1) * 512 > size) return null;
  for (let k = 1; k < usaCount; k++) {
    block[k * 512 - 2] = block[usaOff + 2 * k];
    block[k * 512 - 1] = block[usaOff + 2 * k + 1];
  }
  return { at, size, usaOff, usaCount, bytes: block };
}

/** Runs of a run list as [vcn, lcn|null, length]; stops quietly at anything odd (the base is a real image). */
function decodeRuns(buf, start, end) {
  const runs = [];
  let at = start;
  let lcn = 0;
  let vcn = 0;
  while (at < end && buf[at] !== 0) {
    const h = buf[at];
    const ls = h & 15;
    const os = h >> 4;
    if (ls === 0 || at + 1 + ls + os > end) break;
    let length = 0;
    for (let i = ls - 1; i >= 0; i--) length = length * 256 + buf[at + 1 + i];
    let delta = null;
    if (os > 0) {
      delta = 0;
      for (let i = os - 1; i >= 0; i--) delta = delta * 256 + buf[at + 1 + ls + i];
      if (buf[at + ls + os] & 0x80) delta -= 2 ** (8 * os);
      lcn += delta;
    }
    runs.push({ at, headerSize: 1 + ls + os, lengthSize: ls, offsetSize: os, vcn, lcn: delta === null ? null : lcn, length });
    vcn += length;
    at += 1 + ls + os;
  }
  return { runs, terminator: at };
}

/** Attributes of a fixed-up record (offsets relative to the record). */
function recordAttributes(rec) {
  const out = [];
  let at = rec.readUInt16LE(20);
  const used = Math.min(rec.readUInt32LE(24), rec.length);
  while (at + 16 <= used) {
    const type = rec.readUInt32LE(at);
    if (type === ATTR.END) break;
    const length = rec.readUInt32LE(at + 4);
    if (length < 16 || at + length > used) break;
    const a = { at, type, length, nonResident: rec[at + 8] === 1, nameLength: rec[at + 9], flags: rec.readUInt16LE(at + 12) };
    if (a.nonResident) {
      a.runsAt = at + rec.readUInt16LE(at + 32);
      a.runs = decodeRuns(rec, a.runsAt, at + length);
    } else {
      a.valueAt = at + rec.readUInt16LE(at + 20);
      a.valueLength = rec.readUInt32LE(at + 16);
    }
    out.push(a);
    at += length;
  }
  return out;
}

/** Index entries (offsets relative to `buf`) of an index header at `header`, up to `limit`. */
function indexEntries(buf, header, limit) {
  const out = [];
  let at = header + buf.readUInt32LE(header);
  const end = Math.min(limit, header + buf.readUInt32LE(header + 4));
  while (at + 16 <= end && out.length < 4096) {
    const length = buf.readUInt16LE(at + 8);
    const flags = buf.readUInt16LE(at + 12);
    out.push({ at, length, flags });
    if (flags & 2 || length < 16) break;
    at += length;
  }
  return out;
}

/** Everything the mutations aim at, found once per base image. */
export function ntfsLayout(b) {
  const bps = b.readUInt16LE(11);
  const clusterSize = bps * b[13];
  const mftLcn = Number(b.readBigUInt64LE(48));
  const clustersPerRecord = b.readInt8(64);
  const recordSize = clustersPerRecord > 0 ? clustersPerRecord * clusterSize : 2 ** -clustersPerRecord;
  const clusterCount = Math.floor(Number(b.readBigUInt64LE(40)) / b[13]);
  const record0 = fixedBlock(b, mftLcn * clusterSize, recordSize);
  const mftData = recordAttributes(record0.bytes).find((a) => a.type === ATTR.DATA && a.nonResident);
  // Image offset of each MFT record, through $MFT's own runs.
  const recordAt = [];
  for (const run of mftData.runs.runs) {
    if (run.lcn === null) continue;
    for (let off = 0; off + recordSize <= run.length * clusterSize; off += recordSize) recordAt.push(run.lcn * clusterSize + off);
  }
  const records = [];
  const indx = [];
  const compressed = [];
  const nonResidentValues = [];
  for (let n = 0; n < recordAt.length; n++) {
    const blk = fixedBlock(b, recordAt[n], recordSize);
    if (blk === null || blk.bytes.toString('latin1', 0, 4) !== 'FILE') continue;
    const rec = { n, ...blk, inUse: (blk.bytes.readUInt16LE(22) & 1) !== 0, attrs: recordAttributes(blk.bytes) };
    records.push(rec);
    for (const a of rec.attrs) {
      if (!a.nonResident) continue;
      const stored = a.runs.runs.filter((r) => r.lcn !== null);
      if (a.type === ATTR.INDEX_ALLOCATION) {
        for (const r of stored) for (let c = 0; c < r.length; c++) indx.push((r.lcn + c) * clusterSize);
      }
      if (a.type === ATTR.DATA && a.flags & 1) compressed.push({ record: n, runs: a.runs.runs });
      if (a.type === ATTR.ATTRIBUTE_LIST && stored.length > 0) nonResidentValues.push({ record: n, at: stored[0].lcn * clusterSize, length: Number(rec.bytes.readBigUInt64LE(a.at + 48)) });
    }
  }
  // INDX blocks (4 KiB on these images, one per cluster at most): fixed-up copies and their entries.
  const indexBlocks = [];
  for (const at of new Set(indx)) {
    if (b.toString('latin1', at, at + 4) !== 'INDX') continue;
    const size = 0x18 + b.readUInt32LE(at + 0x18 + 8);
    const blk = fixedBlock(b, at, Math.min(4096, Math.max(512, size)));
    if (blk !== null) indexBlocks.push({ ...blk, entries: indexEntries(blk.bytes, 0x18, blk.size) });
  }
  // Paths from $FILE_NAME (parent, name): which records a command on a path reads.
  const named = new Map();
  for (const rec of records) {
    const fn = rec.attrs.find((a) => a.type === ATTR.FILE_NAME && !a.nonResident && rec.bytes[a.valueAt + 0x41] !== 2);
    if (!fn || !rec.inUse) continue;
    const parent = Number(rec.bytes.readBigUInt64LE(fn.valueAt) & 0xffffffffffffn);
    named.set(rec.n, { parent, name: rec.bytes.toString('utf16le', fn.valueAt + 0x42, fn.valueAt + 0x42 + 2 * rec.bytes[fn.valueAt + 0x40]) });
  }
  const pathRecords = new Map();
  for (const [n] of named) {
    const chain = [];
    const parts = [];
    for (let at = n; at !== 5 && named.has(at) && chain.length < 64; at = named.get(at).parent) {
      chain.push(at);
      parts.unshift(named.get(at).name);
    }
    pathRecords.set('/' + parts.join('/'), [5, ...chain.reverse()]);
  }
  // Records worth aiming at: system files, directories, extension records, and files with a named,
  // compressed, sparse or fragmented $DATA or an $ATTRIBUTE_LIST.
  const interesting = records.filter((r) => r.n < 16 || r.attrs.some((a) => a.type === ATTR.INDEX_ROOT || a.type === ATTR.ATTRIBUTE_LIST || (a.type === ATTR.DATA && (a.nameLength > 0 || a.flags !== 0 || (a.nonResident && a.runs.runs.length > 1)))) || r.bytes.readUInt32LE(32) !== 0);
  return { bytes: b, bps, clusterSize, clusterCount, mftLcn, recordSize, recordAt, records, indexBlocks, compressed, nonResidentValues, pathRecords, interesting };
}

/** The records a command on `path` reads (its directories, its record, that record's extension records). */
function focusRecords(layout, path) {
  const chain = layout.pathRecords.get(path.replace(/:[^/]*$/, ''));
  if (!chain) return [];
  const file = chain[chain.length - 1];
  const extensions = layout.records.filter((r) => Number(r.bytes.readBigUInt64LE(32) & 0xffffffffffffn) === file && r.n !== file).map((r) => r.n);
  const set = new Set([...chain, ...extensions]);
  return layout.records.filter((r) => set.has(r.n));
}

/**
 * One mutation of the base in `layout`: `edit.set(at, byte)` changes a byte of the image,
 * `edit.flip(lo, hi, n)` n random bytes in [lo, hi). Returns { what, length? } (length:
 * a truncation).
 */
export function mutateNtfsVolume(layout, rnd, edit, focusPath = null) {
  // Now and then several at once: one bad field is mostly caught by the check next to it,
  // two can get past each other (a huge size and a run long enough to match it).
  if (rnd() < 0.06) return growWithBigRuns(layout, rnd, edit, focusPath);
  if (rnd() < 0.15) {
    const whats = [];
    let length;
    for (let k = 2 + Math.floor(rnd() * 3); k > 0; k--) {
      const m = mutateOne(layout, rnd, edit, focusPath);
      whats.push(m.what);
      if (m.length !== undefined) length = Math.min(length ?? m.length, m.length);
    }
    return { what: whats.join(' + '), length };
  }
  return mutateOne(layout, rnd, edit, focusPath);
}

/** What every mutation uses: random picks, hostile numbers, fixup-aware writes, record pools. */
function helpers(layout, rnd, edit, focusPath) {
  const b = layout.bytes;
  const pick = (n) => Math.floor(rnd() * n);
  const choose = (list) => list[pick(list.length)];
  const setBytes = (at, bytes) => bytes.forEach((v, k) => edit.set(at + k, v));
  const le = (value, size) => {
    const out = [];
    let v = BigInt.asUintN(8 * size, BigInt(value));
    for (let k = 0; k < size; k++, v >>= 8n) out.push(Number(v & 0xffn));
    return out;
  };
  /** A number hostile to a field of `size` bytes. */
  const hostile = (size, sensible = []) => choose([0, 1, 2 ** (8 * size) - 1, 2 ** (8 * size - 1), 2 ** (8 * Math.min(size, 6)) - 1, pick(2 ** (8 * Math.min(size, 4))), ...sensible]);
  /** Writes `bytes` at `off` of a multi-sector block, through its update sequence where a stride ends. */
  const setInBlock = (blk, off, bytes) => {
    bytes.forEach((v, k) => {
      const o = off + k;
      if (o >= blk.size) return;
      const stride = Math.floor(o / 512);
      if (o % 512 >= 510 && stride + 1 < blk.usaCount) edit.set(blk.at + blk.usaOff + 2 * (stride + 1) + (o % 512) - 510, v);
      else edit.set(blk.at + o, v);
    });
  };
  // Aim: half the time at the records the case's command reads (its path), else at system
  // files, directories and files with more than a resident $DATA, now and then at any record.
  const focus = focusPath === null ? [] : focusRecords(layout, focusPath);
  const pool = () => {
    const x = rnd();
    if (focus.length > 0 && x < 0.5) return focus;
    if (x < 0.65) return layout.records.filter((r) => r.n < 16);
    return x < 0.9 ? layout.interesting : layout.records;
  };
  const anyRecord = () => choose(pool());
  const recordWith = (test) => {
    let list = pool().filter((r) => r.attrs.some(test));
    if (list.length === 0) list = layout.records.filter((r) => r.attrs.some(test));
    return list.length > 0 ? choose(list) : null;
  };

  return { b, pick, choose, setBytes, le, hostile, setInBlock, focus, anyRecord, recordWith };
}

/**
 * The image grown sparse (64 MiB to 1 GiB of zeros after the base, the boot sector's
 * sector count to match), then 1-3 non-resident attributes given one run into that
 * zero area and sizes to match: sizes a 16 MiB base can never make plausible (a
 * $BITMAP of 1 GiB) pass the run checks this way.
 */
function growWithBigRuns(layout, rnd, edit, focusPath) {
  const { b, pick, choose, setBytes, le, setInBlock, recordWith } = helpers(layout, rnd, edit, focusPath);
  const extra = choose([64, 256, 1024]) << 20;
  const length = b.length + extra;
  setBytes(40, le(length / layout.bps - 1, 8));
  const oldClusters = Math.floor(b.length / layout.clusterSize);
  const extraClusters = Math.floor(extra / layout.clusterSize) - 1;
  const whats = [`grow ${extra >> 20} MiB`];
  for (let k = 1 + pick(3); k > 0; k--) {
    // One run in 8 bytes (header 0x33, 3-byte length and LCN, the terminator): what the
    // shortest run-list area (an 0x48-byte attribute) holds.
    const room = (a) => a.nonResident && a.at + a.length - a.runsAt >= 8;
    const rec = rnd() < 0.3 ? layout.records[pick(12)] : recordWith(room);
    const fits = rec?.attrs.filter(room) ?? [];
    if (fits.length === 0) continue;
    const a = choose(fits);
    const clusters = rnd() < 0.5 ? extraClusters : 1 + pick(extraClusters);
    const lcn = oldClusters + pick(extraClusters - clusters + 1);
    setInBlock(rec, a.runsAt, [0x33, ...le(clusters, 3), ...le(lcn, 3), 0]);
    setInBlock(rec, a.at + 16, le(0, 8));
    setInBlock(rec, a.at + 24, le(clusters - 1, 8));
    const bytes = clusters * layout.clusterSize;
    for (const field of [40, 48, 56]) setInBlock(rec, a.at + field, le(rnd() < 0.8 ? bytes : choose([bytes - 1, bytes + 1, 2 ** 40]), 8));
    if (rnd() < 0.2) setInBlock(rec, a.at + 12, le(choose([0, 0x0001, 0x8000]), 2));
    whats.push(`record ${rec.n} attribute 0x${a.type.toString(16)} one run of ${clusters} clusters`);
  }
  return { what: whats.join(' + '), length };
}

function mutateOne(layout, rnd, edit, focusPath) {
  const { b, pick, choose, setBytes, le, hostile, setInBlock, focus, anyRecord, recordWith } = helpers(layout, rnd, edit, focusPath);
  const r = rnd();
  if (r < 0.08) {
    // Boot sector fields.
    const field = choose(['bps', 'spc', 'mft', 'mirror', 'record', 'index', 'total', 'flips']);
    if (field === 'bps') setBytes(11, le(choose([0, 1, 128, 256, 1024, 4096, 8192, 65535, pick(65536)]), 2));
    else if (field === 'spc') edit.set(13, choose([0, 1, 2, 3, 0x40, 0x80, 0xf0, 0xf4, 0xff, pick(256)]));
    else if (field === 'mft') setBytes(48, le(choose([0, 1, layout.clusterCount - 1, layout.clusterCount, layout.clusterCount * 64, 2 ** 53, 2n ** 63n, layout.mftLcn + 1, pick(layout.clusterCount)]), 8));
    else if (field === 'mirror') setBytes(56, le(choose([0, layout.mftLcn, 2 ** 40, pick(layout.clusterCount)]), 8));
    else if (field === 'record') edit.set(64, choose([0, 1, 2, 0x7f, 0x80, 0x81, 0xe0, 0xf0, 0xf6, 0xf7, 0xfa, 0xff, pick(256)]));
    else if (field === 'index') edit.set(68, choose([0, 1, 0x7f, 0x80, 0xe0, 0xf0, 0xf4, 0xff, pick(256)]));
    else if (field === 'total') setBytes(40, le(choose([0, 1, 16, 2 ** 32, 2 ** 53, 2n ** 64n - 1n, pick(1 << 20)]), 8));
    else edit.flip(11, 90, 1 + pick(4));
    return { what: `boot ${field}` };
  }
  if (r < 0.2) {
    // Record header fields (fixup, offsets, sizes, flags, base reference).
    const rec = anyRecord();
    const field = choose(['usa-offset', 'usa-count', 'usa-value', 'first-attribute', 'flags', 'used', 'allocated', 'base', 'signature', 'sequence', 'flips']);
    if (field === 'usa-offset') setBytes(rec.at + 4, le(hostile(2, [rec.size - 1, rec.size, 0x28, 0x30]), 2));
    else if (field === 'usa-count') setBytes(rec.at + 6, le(hostile(2, [rec.usaCount + 1, rec.size / 256 + 1, 0]), 2));
    else if (field === 'usa-value') edit.set(rec.at + rec.usaOff + 2 * (1 + pick(rec.usaCount - 1)) + pick(2), pick(256));
    else if (field === 'first-attribute') setInBlock(rec, 20, le(hostile(2, [0, 8, rec.size - 8, rec.size, rec.usaOff, 0x38 + 1]), 2));
    else if (field === 'flags') setInBlock(rec, 22, le(choose([0, 1, 2, 3, 4, 8, 0xffff]), 2));
    else if (field === 'used') setInBlock(rec, 24, le(hostile(4, [0, 24, rec.size, rec.size + 8]), 4));
    else if (field === 'allocated') setInBlock(rec, 28, le(hostile(4, [0, rec.size / 2, rec.size * 2]), 4));
    else if (field === 'base') setInBlock(rec, 32, le(choose([rec.n, 0, 5, layout.recordAt.length + 5, 2 ** 47 - 1, choose(layout.records).n]), 6));
    else if (field === 'signature') setInBlock(rec, 0, [...Buffer.from(choose(['BAAD', 'FILF', '\0\0\0\0']), 'latin1')]);
    else if (field === 'sequence') setInBlock(rec, 16, le(pick(65536), 2));
    else edit.flip(rec.at, rec.at + 0x38, 1 + pick(6));
    return { what: `record ${rec.n} header ${field}` };
  }
  if (r < 0.36) {
    // Attribute headers.
    const rec = anyRecord();
    if (rec.attrs.length === 0) return { what: 'nothing' };
    const a = choose(rec.attrs);
    const field = a.nonResident
      ? choose(['type', 'length', 'resident-flag', 'name', 'flags', 'start-vcn', 'last-vcn', 'runs-offset', 'compression-unit', 'allocated', 'data-size', 'initialized-size', 'flips'])
      : choose(['type', 'length', 'resident-flag', 'name', 'flags', 'value-length', 'value-offset', 'flips']);
    const at = a.at;
    const s = (off, bytes) => setInBlock(rec, at + off, bytes);
    if (field === 'type') s(0, le(choose([0, 0x20, 0x30, 0x80, 0x90, 0xa0, 0xb0, 0x100, 0xffffffff, pick(2 ** 32)]), 4));
    else if (field === 'length') s(4, le(hostile(4, [0, 8, 16, a.length - 8, a.length + 8, rec.size]), 4));
    else if (field === 'resident-flag') edit.set(rec.at + at + 8, a.nonResident ? 0 : 1);
    else if (field === 'name') s(9, rnd() < 0.5 ? [pick(256)] : [a.nameLength || 4, pick(256), pick(256)]);
    else if (field === 'flags') s(12, le(choose([0x0001, 0x4000, 0x8000, 0x8001, 0x00ff, 0xffff, 0]), 2));
    else if (field === 'value-length') s(16, le(hostile(4, [a.valueLength + 1, rec.size, 0]), 4));
    else if (field === 'value-offset') s(20, le(hostile(2, [0, a.length, rec.size]), 2));
    else if (field === 'start-vcn') s(16, le(choose([1, 2 ** 31, 2 ** 53, 2n ** 64n - 1n, pick(1000)]), 8));
    else if (field === 'last-vcn') s(24, le(choose([0, 2 ** 31, 2 ** 53, 2n ** 64n - 1n, pick(1000)]), 8));
    else if (field === 'runs-offset') s(32, le(hostile(2, [0, a.length, a.length - 1, 0x40]), 2));
    else if (field === 'compression-unit') edit.set(rec.at + at + 34, choose([0, 1, 4, 5, 8, 16, 17, 31, 32, 63, 255]));
    else if (field === 'allocated' || field === 'data-size' || field === 'initialized-size') {
      s({ allocated: 40, 'data-size': 48, 'initialized-size': 56 }[field], le(choose([0, 1, 2 ** 31, 2 ** 32 + 7, 2 ** 40, 2 ** 53 - 1, 2 ** 53, 2n ** 63n, 2n ** 64n - 1n, pick(1 << 24)]), 8));
    } else edit.flip(rec.at + at, rec.at + at + Math.min(a.length, 72), 1 + pick(6));
    return { what: `record ${rec.n} attribute 0x${a.type.toString(16)} ${field}` };
  }
  if (r < 0.5) {
    // Run lists.
    const rec = rnd() < 0.15 ? layout.records[0] : recordWith((a) => a.nonResident && a.runs.runs.length > 0);
    if (rec === null) return { what: 'nothing' };
    const a = choose(rec.attrs.filter((x) => x.nonResident && x.runs.runs.length > 0));
    const runs = a.runs.runs;
    const run = choose(runs);
    const field = choose(['huge-length', 'zero-length', 'lcn-outside', 'lcn-negative', 'loop', 'onto-mft', 'bad-header', 'no-terminator', 'sparse', 'flips']);
    const s = (off, bytes) => setInBlock(rec, off, bytes);
    if (field === 'huge-length') s(run.at + 1, Array(run.lengthSize).fill(0xff).map((v, k) => (k === run.lengthSize - 1 ? 0x7f : v)));
    else if (field === 'zero-length') s(run.at + 1, Array(run.lengthSize).fill(0));
    else if (field === 'lcn-outside' && run.offsetSize > 0) s(run.at + 1 + run.lengthSize, Array(run.offsetSize).fill(0xff).map((v, k) => (k === run.offsetSize - 1 ? 0x7f : v)));
    else if (field === 'lcn-negative' && run.offsetSize > 0) s(run.at + run.lengthSize + run.offsetSize, [0x80 | pick(128)]);
    else if (field === 'loop' && runs.length > 1 && run !== runs[0] && run.offsetSize > 0) {
      // The run's delta set to 0: it points at the same clusters as the run before it.
      s(run.at + 1 + run.lengthSize, Array(run.offsetSize).fill(0));
    } else if (field === 'onto-mft' && run === runs[0] && run.offsetSize >= 2) {
      s(run.at + 1 + run.lengthSize, le(layout.mftLcn, run.offsetSize));
    } else if (field === 'bad-header') s(run.at, [choose([0x09, 0x90, 0x0f, 0xf1, 0x99, 0x10, pick(256)])]);
    else if (field === 'no-terminator') s(a.runs.terminator, [0x11]);
    else if (field === 'sparse') s(run.at, [run.lengthSize]);
    else edit.flip(rec.at + a.runsAt, rec.at + a.runs.terminator + 1, 1 + pick(4));
    return { what: `record ${rec.n} attribute 0x${a.type.toString(16)} runs ${field}` };
  }
  if (r < 0.58) {
    // $ATTRIBUTE_LIST entries (resident values, or the first cluster of a non-resident list).
    const rec = recordWith((a) => a.type === ATTR.ATTRIBUTE_LIST);
    if (rec === null) return { what: 'nothing' };
    const a = rec.attrs.find((x) => x.type === ATTR.ATTRIBUTE_LIST);
    let set;
    let bytes;
    if (!a.nonResident) {
      bytes = rec.bytes.subarray(a.valueAt, a.valueAt + a.valueLength);
      set = (off, v) => setInBlock(rec, a.valueAt + off, v);
    } else {
      const place = layout.nonResidentValues.find((v) => v.record === rec.n);
      if (!place) return { what: 'nothing' };
      bytes = b.subarray(place.at, place.at + place.length);
      set = (off, v) => setBytes(place.at + off, v);
    }
    const entries = [];
    for (let at = 0; at + 26 <= bytes.length && entries.length < 1000; ) {
      const length = bytes.readUInt16LE(at + 4);
      entries.push(at);
      if (length < 26) break;
      at += length;
    }
    const e = choose(entries);
    const field = choose(['self', 'out-of-range', 'other', 'mft', 'length', 'start-vcn', 'type', 'name', 'flips']);
    if (field === 'self') set(e + 16, le(rec.n, 6));
    else if (field === 'out-of-range') set(e + 16, le(choose([layout.recordAt.length, layout.recordAt.length + 1000, 2 ** 47]), 6));
    else if (field === 'other') set(e + 16, le(choose(layout.records).n, 6));
    else if (field === 'mft') set(e + 16, le(0, 6));
    else if (field === 'length') set(e + 4, le(hostile(2, [0, 8, 26, bytes.length + 8]), 2));
    else if (field === 'start-vcn') set(e + 8, le(choose([0, 1, 2 ** 32, 2 ** 53, 2n ** 64n - 1n, pick(500)]), 8));
    else if (field === 'type') set(e, le(choose([0x20, 0x10, 0x80, 0xa0, 0xffffffff]), 4));
    else if (field === 'name') set(e + 6, [pick(256), pick(256)]);
    else for (let k = 0; k < 1 + pick(4); k++) set(e + pick(32), [pick(256)]);
    return { what: `record ${rec.n} $ATTRIBUTE_LIST ${field}` };
  }
  if (r < 0.72) {
    // $I30 index entries: in an INDX block or a record's $INDEX_ROOT.
    let blk;
    let entries;
    let where;
    if (layout.indexBlocks.length > 0 && rnd() < 0.5) {
      blk = choose(layout.indexBlocks);
      entries = blk.entries;
      where = `INDX at ${blk.at}`;
      if (rnd() < 0.15) {
        // The block's own header: fixup, entries offset, sizes, VCN.
        const field = choose([[4, 2], [6, 2], [0x10, 8], [0x18, 4], [0x1c, 4], [0x20, 4]]);
        setInBlock(blk, field[0], le(hostile(field[1], [0, 0x28, blk.size, blk.size + 1]), field[1]));
        return { what: `${where} header ${field[0]}` };
      }
    } else {
      const rec = recordWith((a) => a.type === ATTR.INDEX_ROOT && !a.nonResident);
      if (rec === null) return { what: 'nothing' };
      const a = rec.attrs.find((x) => x.type === ATTR.INDEX_ROOT && !x.nonResident);
      blk = rec;
      entries = indexEntries(rec.bytes, a.valueAt + 16, a.valueAt + a.valueLength).map((e) => ({ ...e }));
      where = `record ${rec.n} $INDEX_ROOT`;
      if (rnd() < 0.15) {
        const field = choose([[8, 4], [12, 1], [16, 4], [20, 4], [24, 4], [28, 1]]);
        setInBlock(rec, a.valueAt + field[0], le(hostile(field[1], [0, 1, a.valueLength]), field[1]));
        return { what: `${where} header ${field[0]}` };
      }
    }
    const withKeys = entries.filter((e) => !(e.flags & 2));
    const e = choose(withKeys.length > 0 ? withKeys : entries);
    if (!e) return { what: 'nothing' };
    const s = (off, bytes) => setInBlock(blk, e.at + off, bytes);
    const nameLength = blk.bytes[e.at + 0x50];
    const field = choose(['ref-root', 'ref-self', 'ref-range', 'ref-mft', 'length', 'key-length', 'flags', 'name-length', 'slash', 'dotdot', 'dot', 'control', 'nul', 'namespace', 'subnode', 'sizes', 'flips']);
    const utf16 = (text) => [...Buffer.from(text, 'utf16le')];
    if (field === 'ref-root') s(0, [...le(5, 6), 5, 0]);
    else if (field === 'ref-self') s(0, le(blk.n ?? 5, 6));
    else if (field === 'ref-range') s(0, le(choose([layout.recordAt.length + 3, 2 ** 40, 2 ** 47]), 6));
    else if (field === 'ref-mft') s(0, le(choose([0, 1, 2, 3, 6, 8, 10]), 6));
    else if (field === 'length') s(8, le(hostile(2, [0, 8, 16, e.length + 8]), 2));
    else if (field === 'key-length') s(10, le(hostile(2, [0, 0x42, 0x42 + 2 * nameLength + 1000]), 2));
    else if (field === 'flags') s(12, le(choose([0, 1, 2, 3, 0xffff]), 2));
    else if (field === 'name-length') s(0x50, [choose([0, 1, 255, nameLength + 1, pick(256)])]);
    else if (field === 'slash' && nameLength > 0) s(0x52 + 2 * pick(nameLength), utf16('/'));
    else if (field === 'dotdot') s(0x50, [2, 1, ...utf16('..')]);
    else if (field === 'dot') s(0x50, [1, 1, ...utf16('.')]);
    else if (field === 'control' && nameLength > 0) s(0x52 + 2 * pick(nameLength), [choose([1, 0x1b, 0x0a, 0x0d, 0x7f]), 0]);
    else if (field === 'nul' && nameLength > 0) s(0x52 + 2 * pick(nameLength), [0, 0]);
    else if (field === 'namespace') s(0x51, [choose([0, 1, 2, 3, 4, 255])]);
    else if (field === 'subnode') {
      s(12, le(1, 2));
      s(e.length - 8, le(choose([0, 1, 2 ** 32, 2n ** 64n - 1n, pick(64)]), 8));
    } else if (field === 'sizes') s(0x10 + 0x28 + 8 * pick(2), le(choose([2 ** 53, 2n ** 63n, 2n ** 64n - 1n]), 8));
    else edit.flip(blk.at + e.at, blk.at + e.at + Math.max(16, Math.min(e.length, 0x60)), 1 + pick(6));
    return { what: `${where} entry ${field}` };
  }
  if (r < 0.8) {
    // $FILE_NAME attributes in records: names, lengths, parents.
    const rec = recordWith((a) => a.type === ATTR.FILE_NAME && !a.nonResident && a.valueLength >= 0x42);
    if (rec === null) return { what: 'nothing' };
    const a = choose(rec.attrs.filter((x) => x.type === ATTR.FILE_NAME && !x.nonResident));
    const nameLength = rec.bytes[a.valueAt + 0x40];
    const s = (off, bytes) => setInBlock(rec, a.valueAt + off, bytes);
    const field = choose(['parent-self', 'parent-root', 'parent-range', 'name-length', 'slash', 'dotdot', 'control', 'namespace', 'flips']);
    if (field === 'parent-self') s(0, [...le(rec.n, 6), ...le(rec.bytes.readUInt16LE(16), 2)]);
    else if (field === 'parent-root') s(0, [...le(5, 6), 5, 0]);
    else if (field === 'parent-range') s(0, le(choose([layout.recordAt.length + 9, 2 ** 47 - 1]), 6));
    else if (field === 'name-length') s(0x40, [choose([0, 255, nameLength + 1, pick(256)])]);
    else if (field === 'slash' && nameLength > 0) s(0x42 + 2 * pick(nameLength), [0x2f, 0]);
    else if (field === 'dotdot') s(0x40, [2, 1, 0x2e, 0, 0x2e, 0]);
    else if (field === 'control' && nameLength > 0) s(0x42 + 2 * pick(nameLength), [choose([1, 0x1b, 0x0a, 0]), 0]);
    else if (field === 'namespace') s(0x41, [choose([0, 1, 2, 3, 4, 255])]);
    else edit.flip(rec.at + a.valueAt, rec.at + a.valueAt + 0x42 + 2 * nameLength, 1 + pick(4));
    return { what: `record ${rec.n} $FILE_NAME ${field}` };
  }
  if (r < 0.86 && layout.compressed.length > 0) {
    // LZNT1: a compression unit's chunk headers or its compressed bytes.
    const focused = layout.compressed.filter((c) => focus.some((f) => f.n === c.record));
    const file = choose(focused.length > 0 ? focused : layout.compressed);
    const stored = file.runs.filter((x) => x.lcn !== null);
    const run = choose(stored);
    const at = (run.lcn + pick(run.length)) * layout.clusterSize;
    const field = choose(['chunk-size', 'chunk-flag', 'chunk-zero', 'flags-byte', 'flips']);
    if (field === 'chunk-size') setBytes(at, le((b.readUInt16LE(at) & 0xf000) | pick(4096), 2));
    else if (field === 'chunk-flag') edit.set(at + 1, b[at + 1] ^ 0x80);
    else if (field === 'chunk-zero') setBytes(at, [0, 0]);
    else if (field === 'flags-byte') edit.set(at + 2, pick(256));
    else edit.flip(at, at + layout.clusterSize, 1 + pick(16));
    return { what: `record ${file.record} LZNT1 ${field}` };
  }
  if (r < 0.94) {
    // Random bytes in one record (fixups included), or over the whole MFT zone.
    if (rnd() < 0.7) {
      const rec = anyRecord();
      edit.flip(rec.at, rec.at + rec.size, 1 + pick(12));
      return { what: `record ${rec.n} flips` };
    }
    const first = layout.recordAt[0];
    edit.flip(first, first + layout.recordSize * Math.min(layout.recordAt.length, 64), 20 + pick(200));
    return { what: 'heavy MFT flips' };
  }
  if (r < 0.97) {
    // Truncation: anywhere, or inside the MFT.
    const length = rnd() < 0.5 ? pick(b.length) : layout.recordAt[0] + pick(layout.recordSize * layout.recordAt.length);
    return { what: 'truncate', length: Math.min(b.length, length) };
  }
  edit.flip(0, b.length, 1 + pick(64));
  return { what: 'flips anywhere' };
}
