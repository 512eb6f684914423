/**
 * A per-chunk work module (see scanParallel): the CRC-32 of the chunk, and with
 * `{ hash: 'sha256' }` also its SHA-256 — the CPU-heavy step bench uses to show how
 * parallel mode scales. Runs in the workers in parallel mode, on the main thread in
 * the others; the merger combines the CRCs into the CRC of the whole stream.
 */
import { crc32 } from 'node:zlib';
import { createHash } from 'node:crypto';

export type DigestWork = 'none' | 'crc32' | 'sha256';

export interface ChunkDigest {
  length: number;
  crc32: number | null;
  sha256: string | null;
}

export function process(chunk: Uint8Array, _logicalOffset: number, data: unknown): ChunkDigest {
  const work = ((data as { hash?: DigestWork } | null)?.hash ?? 'crc32') as DigestWork;
  return {
    length: chunk.length,
    crc32: work === 'none' ? null : crc32(chunk),
    sha256: work === 'sha256' ? createHash('sha256').update(chunk).digest('hex') : null,
  };
}
