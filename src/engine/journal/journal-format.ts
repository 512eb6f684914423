/**
 * The rollback journal file (`IMAGE.diskkit-journal`, docs in README "Crash safety").
 *
 * A 512-byte header, then records, each the old contents of a byte range of the
 * image taken before diskkit overwrote it:
 *
 *   header  magic "DKJOURNL", version, flags (committed, image created), the image
 *           identity (file name, size, volume offset and size), a random nonce, the
 *           writer's pid and boot id, and a CRC32 of the header.
 *   record  magic "DKRC", length, image position, CRC32 over nonce + fields + data,
 *           then `length` bytes.
 *
 * A record is complete and belongs to this journal only when its CRC (seeded with the
 * header's nonce) matches: a record torn by a crash is where reading stops, and its
 * image write never began (records are written before the image is touched).
 */
// Not node:zlib's: a journal is started by commands whose start-up matters (mkfs), see ../crc32.ts.
import { crc32 } from '../crc32.js';
import { DiskkitError, ErrorCode } from '../errors.js';
import { defineStruct } from '../struct.js';

export { JOURNAL_SUFFIX } from './journal-path.js';
export const JOURNAL_MAGIC = 'DKJOURNL';
export const RECORD_MAGIC = 0x4352_4b44; // "DKRC" read little-endian
export const JOURNAL_VERSION = 1;
export const HEADER_SIZE = 512;
/** The longest image file name kept in the header (bytes of UTF-8). */
export const MAX_NAME_BYTES = 400;
/** A record holds at most this much: bigger saves are split (bounded reads on replay). */
export const MAX_RECORD_BYTES = 4 * 1024 * 1024;

export const JournalFlag = {
  /** The command finished: the image holds the new state; the journal only waits to be deleted. */
  COMMITTED: 1,
  /** The image did not exist (or was empty) before: rolling back empties it. */
  CREATED: 2,
} as const;

const Header = defineStruct('journal header', HEADER_SIZE, {
  magic: { offset: 0, type: { bytes: 8 } },
  version: { offset: 8, type: 'u32' },
  flags: { offset: 12, type: 'u32' },
  imageSize: { offset: 16, type: 'u64' },
  volumeOffset: { offset: 24, type: 'u64' },
  volumeSize: { offset: 32, type: 'u64' },
  nonce: { offset: 40, type: 'u32' },
  pid: { offset: 44, type: 'u32' },
  bootId: { offset: 48, type: { bytes: 16 } },
  nameLength: { offset: 64, type: 'u16' },
  name: { offset: 66, type: { bytes: MAX_NAME_BYTES } },
  crc: { offset: 508, type: 'u32' },
});

const Record = defineStruct('journal record', 24, {
  magic: { offset: 0, type: 'u32' },
  length: { offset: 4, type: 'u32' },
  position: { offset: 8, type: 'u64' },
  crc: { offset: 16, type: 'u32' },
  reserved: { offset: 20, type: 'u32' },
});
export const RECORD_HEADER_SIZE = Record.size;

export interface JournalHeader {
  flags: number;
  /** Size of the image file when the journal was begun (rollback truncates back to it). */
  imageSize: number;
  /** Where the volume starts in the image (a partition's offset) and its size. */
  volumeOffset: number;
  volumeSize: number;
  nonce: number;
  pid: number;
  /** /proc/sys/kernel/random/boot_id as 16 bytes (zeros where unknown). */
  bootId: Uint8Array;
  /** The image's file name (base name): a journal beside another file is refused. */
  name: string;
}

export interface JournalRecord {
  position: number;
  data: Uint8Array;
}

export function encodeJournalHeader(h: JournalHeader): Uint8Array {
  const buf = new Uint8Array(HEADER_SIZE);
  const name = Buffer.from(h.name, 'utf8').subarray(0, MAX_NAME_BYTES);
  const padded = new Uint8Array(MAX_NAME_BYTES);
  padded.set(name);
  Header.encode(
    {
      magic: Buffer.from(JOURNAL_MAGIC, 'latin1'),
      version: JOURNAL_VERSION,
      flags: h.flags,
      imageSize: h.imageSize,
      volumeOffset: h.volumeOffset,
      volumeSize: h.volumeSize,
      nonce: h.nonce >>> 0,
      pid: h.pid >>> 0,
      bootId: h.bootId,
      nameLength: name.length,
      name: padded,
    },
    buf,
  );
  Header.encode({ crc: crc32(buf.subarray(0, Header.fields.crc.offset)) }, buf);
  return buf;
}

/** Decodes a header; E_CORRUPT when the magic, version or CRC is wrong (a torn or foreign file). */
export function decodeJournalHeader(buf: Uint8Array): JournalHeader {
  if (buf.length < HEADER_SIZE) throw corrupt(`journal header is ${buf.length} bytes, needs ${HEADER_SIZE}`);
  const h = Header.decode(buf);
  if (Buffer.from(h.magic).toString('latin1') !== JOURNAL_MAGIC) throw corrupt('not a diskkit journal (bad magic)');
  if (h.crc !== crc32(buf.subarray(0, Header.fields.crc.offset))) throw corrupt('journal header checksum mismatch');
  if (h.version !== JOURNAL_VERSION) throw corrupt(`journal version ${h.version} is not supported (this diskkit writes ${JOURNAL_VERSION})`);
  if (h.nameLength > MAX_NAME_BYTES) throw corrupt('journal header name length out of range');
  return {
    flags: h.flags,
    imageSize: h.imageSize,
    volumeOffset: h.volumeOffset,
    volumeSize: h.volumeSize,
    nonce: h.nonce,
    pid: h.pid,
    bootId: h.bootId,
    name: Buffer.from(h.name.subarray(0, h.nameLength)).toString('utf8'),
  };
}

function recordCrc(nonce: number, head: Uint8Array, data: Uint8Array): number {
  const seed = Buffer.alloc(4);
  seed.writeUInt32LE(nonce >>> 0);
  return crc32(data, crc32(head.subarray(0, Record.fields.crc.offset), crc32(seed)));
}

/** One record (header + data) as it goes into the journal file. */
export function encodeJournalRecord(nonce: number, position: number, data: Uint8Array): Uint8Array {
  if (data.length > MAX_RECORD_BYTES) throw new RangeError(`journal record of ${data.length} bytes exceeds ${MAX_RECORD_BYTES}`);
  const out = new Uint8Array(RECORD_HEADER_SIZE + data.length);
  Record.encode({ magic: RECORD_MAGIC, length: data.length, position, crc: 0, reserved: 0 }, out);
  out.set(data, RECORD_HEADER_SIZE);
  Record.encode({ crc: recordCrc(nonce, out, data) }, out);
  return out;
}

/**
 * The record header at the start of `head` (24 bytes): its length and position, or
 * null when it is not a record (a torn tail or garbage: reading stops there).
 */
export function decodeRecordHeader(head: Uint8Array): { length: number; position: number; crc: number } | null {
  if (head.length < RECORD_HEADER_SIZE) return null;
  const r = Record.decode(head);
  if (r.magic !== RECORD_MAGIC || r.length === 0 || r.length > MAX_RECORD_BYTES || r.reserved !== 0) return null;
  return { length: r.length, position: r.position, crc: r.crc };
}

/** True when `data` is the complete body of the record whose header is `head`. */
export function recordIsIntact(nonce: number, head: Uint8Array, data: Uint8Array): boolean {
  const r = decodeRecordHeader(head);
  return r !== null && data.length === r.length && recordCrc(nonce, head, data) === r.crc;
}

function corrupt(message: string): DiskkitError {
  return new DiskkitError(ErrorCode.CORRUPT, message);
}
