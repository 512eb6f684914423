// Page-aware mutations of Cartridge images for scripts/fuzz.js (docs/cartridge-format.md
// is the map; the judging lives in fuzz.js). A flipped byte in a Cartridge is caught by
// the checksum its parent holds (test/cartridge/tamper.test.ts covers that in process),
// so most mutations here re-seal what they change: the page's self-checksum (§5.1), the
// seal in every pointer to it (§6), and so on up to the meta page (§4); an extent's
// bytes get their seal in the extent record (§9.1) re-sealed the same way; the
// superblock its SHA-256 (§3). What the decoders behind the checksums then meet is a
// well-sealed but hostile structure. Plain (unencrypted) images only: a GCM tag cannot
// be re-made without the key.
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';

const PageType = { META: 1, FREELIST: 2, CATALOG: 16, EXTENT_MAP: 17, SNAPSHOT: 18, SEAL: 32 };
const KNOWN = new Set(Object.values(PageType));

/** Checksum (§2) of a page as its self-checksum covers it: [0, 32) ‖ [64, pageSize). */
function pageSeal(bytes, at, pageSize, algorithm) {
  const head = bytes.subarray(at, at + 32);
  const rest = bytes.subarray(at + 64, at + pageSize);
  return checksum([head, rest], algorithm);
}

function checksum(parts, algorithm) {
  const out = Buffer.alloc(32);
  if (algorithm === 2) {
    const h = createHash('sha256');
    for (const p of parts) h.update(p);
    h.digest().copy(out);
  } else {
    let c = 0;
    for (const p of parts) c = crc32(p, c);
    out.writeUInt32LE(c >>> 0, 0);
  }
  return out;
}

/** Pages, their types and seals, and the extents the catalog and extent maps name. */
export function cartridgeLayout(b) {
  const pageSize = b.readUInt32LE(12);
  const algorithm = b[28];
  const encrypted = b[31] !== 0;
  const pages = [];
  for (let n = 1; (n + 1) * pageSize <= b.length; n++) {
    const at = n * pageSize;
    const type = b.readUInt16LE(at);
    if (!KNOWN.has(type) || Number(b.readBigUInt64LE(at + 8)) !== n) continue;
    if (!pageSeal(b, at, pageSize, algorithm).equals(b.subarray(at + 32, at + 64))) continue;
    pages.push({ n, at, type, level: b[at + 64], generation: Number(b.readBigUInt64LE(at + 16)) });
  }
  // Leaf entries of catalog, extent-map and snapshot pages; extent records in their values.
  const entries = [];
  const extents = [];
  for (const p of pages) {
    if (p.type < 16 || p.type > 18 || p.level !== 0) continue;
    const count = b.readUInt16LE(p.at + 66);
    let at = p.at + 72;
    for (let i = 0; i < count && at + 4 <= p.at + pageSize; i++) {
      const keyLength = b.readUInt16LE(at);
      const valueLength = b.readUInt16LE(at + 2);
      const entry = { page: p, at, keyAt: at + 4, keyLength, valueAt: at + 4 + keyLength, valueLength };
      entries.push(entry);
      // An extent record: the extent map's value, or a catalog value in data mode 2 (§7.2).
      let record = null;
      if (p.type === PageType.EXTENT_MAP && valueLength === 64) record = entry.valueAt;
      if (p.type === PageType.CATALOG && valueLength >= 34 + 64 && b[entry.valueAt + 9] === 2) record = entry.valueAt + 34;
      if (record !== null) {
        const address = Number(b.readBigUInt64LE(record));
        const stored = b.readUInt32LE(record + 20);
        if (address > 0 && (address * pageSize) + stored <= b.length) extents.push({ page: p, record, address, stored, compression: b[record + 28] });
      }
      at += 4 + keyLength + valueLength;
    }
  }
  const metas = [1, 2].map((n) => pages.find((p) => p.n === n)).filter(Boolean);
  return { bytes: b, pageSize, algorithm, encrypted, pages, entries, extents, metas };
}

/**
 * One mutation of the base in `layout`, through `edit.set(at, byte)` / `edit.flip(lo, hi, n)`.
 * Returns { what, length? }.
 */
export function mutateCartridge(layout, rnd, edit) {
  const { bytes: b, pageSize, algorithm } = layout;
  const pick = (n) => Math.floor(rnd() * n);
  const choose = (list) => list[pick(list.length)];
  const le = (value, size) => {
    const out = [];
    let v = BigInt.asUintN(8 * size, BigInt(value));
    for (let k = 0; k < size; k++, v >>= 8n) out.push(Number(v & 0xffn));
    return out;
  };
  const hostile = (size, sensible = []) => choose([0, 1, 2 ** (8 * size) - 1, 2 ** (8 * size - 1), 2 ** (8 * Math.min(size, 6)) - 1, pick(2 ** (8 * Math.min(size, 4))), ...sensible]);
  // The image as mutated so far (edits go to `edit` and to this copy, so seals are computed over what the case will hold).
  const work = Buffer.from(b);
  const set = (at, values) => values.forEach((v, k) => {
    if (at + k >= work.length) return;
    work[at + k] = v & 0xff;
    edit.set(at + k, v & 0xff);
  });
  const flip = (lo, hi, count) => {
    for (let k = 0; k < count; k++) {
      const at = lo + pick(Math.max(1, hi - lo));
      if (at < work.length) set(at, [rnd() < 0.5 ? work[at] ^ (1 << pick(8)) : pick(256)]);
    }
  };
  /** Re-seals page n and every pointer to it, up to the meta pages. */
  const reseal = (n, depth = 0) => {
    const at = n * pageSize;
    const old = Buffer.from(work.subarray(at + 32, at + 64));
    const seal = pageSeal(work, at, pageSize, algorithm);
    set(at + 32, [...seal]);
    if (depth > 64 || work.readUInt16LE(at) === PageType.META) return;
    for (const p of layout.pages) {
      if (p.n === n) continue;
      for (let k = work.indexOf(old, p.at + 64); k >= 0 && k < p.at + pageSize; k = work.indexOf(old, k + 1)) {
        // A pointer: address and generation just before the seal (§6).
        if (Number(work.readBigUInt64LE(k - 16)) !== n) continue;
        set(k, [...seal]);
        reseal(p.n, depth + 1);
      }
    }
  };
  /** Re-seals extent e (its stored bytes changed) in its record, then the record's page. */
  const resealExtent = (e) => {
    const seal = checksum([work.subarray(e.address * pageSize, e.address * pageSize + work.readUInt32LE(e.record + 20))], algorithm);
    set(e.record + 32, [...seal]);
    reseal(e.page.n);
  };
  const superblock = () => set(480, [...createHash('sha256').update(work.subarray(0, 480)).digest()]);

  const r = rnd();
  if (r < 0.07) {
    const field = choose([[8, 2], [10, 2], [12, 4], [16, 4], [20, 4], [24, 4], [28, 1], [29, 1], [30, 1], [31, 1]]);
    set(field[0], le(hostile(field[1], [1, 2, 3, 512, 4096, 65536, 131072]), field[1]));
    if (rnd() < 0.85) superblock();
    return { what: `superblock ${field[0]}` };
  }
  if (r < 0.25 && layout.metas.length > 0) {
    // The meta page with the higher generation is the one read; now and then the other.
    const metas = [...layout.metas].sort((x, y) => y.generation - x.generation);
    const meta = rnd() < 0.8 ? metas[0] : choose(metas);
    const field = choose(['generation', 'pageCount', 'nextInodeId', 'fileCount', 'catalog', 'freelist', 'snapshots', 'key', 'header']);
    const m = meta.at;
    if (field === 'generation') set(m + 64, le(hostile(8, [meta.generation + 2, meta.generation - 2]), 8));
    else if (field === 'pageCount') set(m + 72, le(hostile(8, [3, b.length / pageSize - 1, b.length / pageSize + 1, 2 ** 40]), 8));
    else if (field === 'nextInodeId') set(m + 80, le(hostile(8, [0, 1, 2]), 8));
    else if (field === 'fileCount') set(m + 88, le(hostile(8, [0]), 8));
    else if (field === 'key') set(m + 256 + pick(128), [pick(256)]);
    else if (field === 'header') set(m + choose([0, 2, 8, 16]), [pick(256)]);
    else {
      // A root pointer: to another page (resealed to that page, so only its type or level is wrong), page 0, past the end, or its generation.
      const at = m + { catalog: 104, freelist: 152, snapshots: 200 }[field];
      const how = choose(['other-page', 'zero', 'past-end', 'generation']);
      if (how === 'other-page') {
        const target = choose(layout.pages.filter((p) => p.n > 2));
        set(at, [...le(target.n, 8), ...le(target.generation, 8), ...work.subarray(target.at + 32, target.at + 64)]);
      } else if (how === 'zero') set(at, le(0, 8));
      else if (how === 'past-end') set(at, le(choose([b.length / pageSize, 2 ** 40, 2 ** 63]), 8));
      else set(at + 8, le(hostile(8), 8));
      reseal(meta.n);
      return { what: `meta ${meta.n} ${field} ${how}` };
    }
    reseal(meta.n);
    return { what: `meta ${meta.n} ${field}` };
  }
  if (r < 0.45 && layout.pages.length > 0) {
    // A node page's header or an entry's lengths (B+tree pages).
    const nodes = layout.pages.filter((p) => p.type >= 16 && p.type <= 18);
    const p = choose(nodes);
    const field = choose(['level', 'count', 'usedBytes', 'type', 'generation', 'entry-lengths', 'child-pointer', 'flips']);
    if (field === 'level') set(p.at + 64, [choose([0, 1, 2, 63, 255, p.level + 1])]);
    else if (field === 'count') set(p.at + 66, le(hostile(2, [0, 1, 2, 1000]), 2));
    else if (field === 'usedBytes') set(p.at + 68, le(hostile(4, [0, pageSize - 72, pageSize]), 4));
    else if (field === 'type') set(p.at, le(choose([16, 17, 18, 2, 1, 32, 99]), 2));
    else if (field === 'generation') set(p.at + 16, le(hostile(8), 8));
    else if (field === 'entry-lengths') {
      const es = layout.entries.filter((e) => e.page === p);
      if (es.length === 0) return { what: 'nothing' };
      const e = choose(es);
      set(e.at + 2 * pick(2), le(hostile(2, [0, 255, 256, pageSize, e.keyLength + 1, e.valueLength + 1]), 2));
    } else if (field === 'child-pointer' && p.level > 0) {
      // Branch child 0 (at 72) aimed at another node, sealed to it: a wrong type, level or key range, or an ancestor.
      const target = choose(nodes);
      set(p.at + 72, [...le(target.n, 8), ...le(target.generation, 8), ...work.subarray(target.at + 32, target.at + 64)]);
    } else flip(p.at + 64, p.at + pageSize, 1 + pick(8));
    reseal(p.n);
    return { what: `page ${p.n} (type ${p.type}) ${field}` };
  }
  if (r < 0.72 && layout.entries.length > 0) {
    // Catalog keys (names, parents) and inode records; extent records; snapshot values.
    const e = choose(layout.entries);
    const t = e.page.type;
    let field;
    if (t === PageType.CATALOG) {
      field = choose(['name-slash', 'name-dotdot', 'name-control', 'name-bad-utf8', 'parent', 'id', 'kind', 'dataMode', 'size', 'dataLength', 'data', 'links', 'mode', 'mtime']);
      const v = e.valueAt;
      const nameAt = e.keyAt + 8;
      const nameLength = e.keyLength - 8;
      if (field === 'name-slash' && nameLength > 0) set(nameAt + pick(nameLength), [0x2f]);
      else if (field === 'name-dotdot' && nameLength >= 2) set(nameAt, nameLength === 2 ? [0x2e, 0x2e] : [0x2e, 0x2e, 0x2f]);
      else if (field === 'name-control' && nameLength > 0) set(nameAt + pick(nameLength), [choose([0, 1, 0x0a, 0x1b, 0x7f])]);
      else if (field === 'name-bad-utf8' && nameLength > 0) set(nameAt + pick(nameLength), [choose([0x80, 0xc0, 0xff, 0xed])]);
      else if (field === 'parent') set(e.keyAt, [...Buffer.from(le(choose([0, 1, 2, 3, 2 ** 40, pick(100)]), 8)).reverse()]);
      else if (field === 'id') set(v, le(choose([0, 1, 2, 3, 2 ** 53, pick(100)]), 8));
      else if (field === 'kind') set(v + 8, [choose([0, 1, 2, 3, 4, 5, 255])]);
      else if (field === 'dataMode') set(v + 9, [choose([0, 1, 2, 3, 4, 5, 255])]);
      else if (field === 'size') set(v + 16, le(hostile(8, [2 ** 53, 2 ** 40, 2 ** 31, 513, 1 << 20]), 8));
      else if (field === 'dataLength') set(v + 32, le(hostile(2, [0, 16, 48, 64, 512, 513]), 2));
      else if (field === 'links') set(v + 12, le(hostile(4), 4));
      else if (field === 'mode') set(v + 10, le(pick(65536), 2));
      else if (field === 'mtime') set(v + 24, le(choose([2n ** 63n, 2n ** 64n - 1n, -1, 8.64e15 + 1]), 8));
      else if (e.valueLength > 34) {
        // The data by mode: inline bytes, an extent record, an extent-map pointer, a pack reference (packId, offset).
        const d = v + 34;
        const mode = work[v + 9];
        if (mode === 4) set(d + 8 * pick(2), le(hostile(4, [0, 1 << 17, 1 << 20]), 4));
        else if (mode === 2 || mode === 3) set(d + choose([0, 8, 16, 20, 24, 28]), le(hostile(4, [0, 1, 1 << 20, (1 << 20) + 1]), 4));
        else set(d + pick(e.valueLength - 34), [pick(256)]);
      }
    } else if (t === PageType.EXTENT_MAP) {
      field = choose(['offset', 'address', 'pageCount', 'storedLength', 'logicalLength', 'compression']);
      if (field === 'offset') set(e.keyAt, [...Buffer.from(le(choose([0, 1, 2 ** 40, 2 ** 53, pick(1 << 22)]), 8)).reverse()]);
      else if (field === 'address') set(e.valueAt, le(choose([0, 1, 2, b.length / pageSize, 2 ** 40]), 8));
      else if (field === 'pageCount') set(e.valueAt + 16, le(hostile(4, [0, 1, 257]), 4));
      else if (field === 'storedLength') set(e.valueAt + 20, le(hostile(4, [0, 1, 1 << 20]), 4));
      else if (field === 'logicalLength') set(e.valueAt + 24, le(hostile(4, [0, 1, 1 << 20, (1 << 20) + 1]), 4));
      else set(e.valueAt + 28, [choose([0, 1, 2, 3, 255])]);
    } else {
      field = choose(['generation', 'fileCount', 'nextInodeId', 'catalog', 'name']);
      if (field === 'name' && e.keyLength > 0) set(e.keyAt + pick(e.keyLength), [choose([0, 0x2f, 0x0a, 0xff])]);
      else if (field === 'catalog') {
        const target = choose(layout.pages.filter((p) => p.n > 2));
        set(e.valueAt + 32, [...le(target.n, 8), ...le(target.generation, 8), ...work.subarray(target.at + 32, target.at + 64)]);
      } else set(e.valueAt + { generation: 0, fileCount: 16, nextInodeId: 24, name: 0 }[field], le(hostile(8), 8));
    }
    reseal(e.page.n);
    return { what: `page ${e.page.n} (type ${t}) entry ${field}` };
  }
  if (r < 0.87 && layout.extents.length > 0) {
    // An extent's stored bytes (compressed frames, lz4 length prefix), re-sealed.
    const e = choose(layout.extents);
    const at = e.address * pageSize;
    const field = choose(['prefix', 'frame-header', 'bytes', 'truncated-frame']);
    if (field === 'prefix') set(at, le(hostile(4, [0, 1 << 20, (1 << 20) + 1, 16 << 20]), 4));
    else if (field === 'frame-header') for (let k = 0; k < 1 + pick(3); k++) set(at + pick(Math.min(e.stored, 24)), [pick(256)]);
    else if (field === 'truncated-frame') set(e.record + 20, le(Math.max(1, pick(e.stored)), 4));
    else for (let k = 0; k < 1 + pick(16); k++) set(at + pick(e.stored), [pick(256)]);
    resealExtent(e);
    return { what: `extent at page ${e.address} (compression ${e.compression}) ${field}` };
  }
  if (r < 0.95) {
    // Raw bytes, no re-seal: the checksums must catch them.
    const p = layout.pages.length > 0 && rnd() < 0.7 ? choose(layout.pages) : null;
    if (p) flip(p.at, p.at + pageSize, 1 + pick(8));
    else flip(0, b.length, 1 + pick(32));
    return { what: p ? `page ${p.n} raw flips` : 'raw flips' };
  }
  return { what: 'truncate', length: rnd() < 0.5 ? pick(b.length) : pageSize * (3 + pick(Math.max(1, b.length / pageSize - 3))) };
}
