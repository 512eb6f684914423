/**
 * The bench workloads. Each reads through the I/O layer in a given mode and returns
 * what it measured plus a checksum of what it read, so modes can be seen to agree.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, constants, mkdtempSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DiskkitError, ErrorCode } from '../errors.js';
import type { BlockSource } from '../../io/block-source.js';
import { scanParallel, type ReadMode, type ScanResult } from '../../io/scan.js';
import { builtModuleUrl } from '../../io/built-module-url.js';
import { crc32Combine } from '../../io/crc32-combine.js';
import type { ChunkDigest, DigestWork } from '../../io/workers/chunk-digest.js';
import type { EntryInfo, Extent, Volume } from '../volume.js';
import { seededRandom } from '../seeded-random.js';
import { rawExtentsOf } from '../extent-reader.js';
import { FileDataBlockSource } from '../../io/file-data-source.js';

export interface ReadSettings {
  mode: ReadMode;
  chunkSize?: number;
  depth?: number;
  workers?: number;
  hash: DigestWork;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

export interface ReadRun {
  seconds: number;
  bytes: number;
  /** CRC-32 of every byte read, in order (null with hash 'none'). */
  crc32: string | null;
  /** SHA-256 over the per-chunk SHA-256 digests (depends on the chunk size), with hash 'sha256'. */
  sha256OfChunks: string | null;
  cpuUserMs: number;
  cpuSysMs: number;
  scan: ScanResult;
}

const DIGEST_MODULE = builtModuleUrl('../../io/workers/chunk-digest.js', import.meta.url);

/**
 * Bytes/s one core gets through each digest (node:zlib crc32, node:crypto SHA-256 on
 * 1 MiB chunks; REFERENCE.md "Measured here"): what auto weighs against reading.
 */
const DIGEST_WORK_RATE: Record<DigestWork, number> = { none: Infinity, crc32: 5e9, sha256: 1.1e9 };

/** Reads the extents once in the given mode, running the digest work per chunk where the mode runs work. */
export async function readExtents(source: BlockSource, extents: readonly Extent[], settings: ReadSettings): Promise<ReadRun> {
  let crc = 0;
  const sha = settings.hash === 'sha256' ? createHash('sha256') : null;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const scan = await scanParallel<ChunkDigest>(
    source,
    extents,
    {
      mode: settings.mode,
      chunkSize: settings.chunkSize,
      depth: settings.depth,
      workers: settings.workers,
      workerModule: DIGEST_MODULE,
      workRate: DIGEST_WORK_RATE[settings.hash],
      workerData: { hash: settings.hash },
      signal: settings.signal,
      onProgress: settings.onProgress ? (done, total) => settings.onProgress!(total ? done / total : 1) : undefined,
    },
    (digest) => {
      if (digest.crc32 !== null) crc = crc32Combine(crc, digest.crc32, digest.length);
      if (sha && digest.sha256) sha.update(digest.sha256);
    },
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    seconds,
    bytes: scan.bytes,
    crc32: settings.hash === 'none' ? null : crc.toString(16).padStart(8, '0'),
    sha256OfChunks: sha ? sha.digest('hex') : null,
    cpuUserMs: cpu.user / 1000,
    cpuSysMs: cpu.system / 1000,
    scan,
  };
}


export const RANDOM_READ_BYTES = 4096;

export interface FileExtents {
  path: string;
  size: number;
  extents: Extent[];
}

/** The source ranges holding file bytes [offset, offset+length) (may span extents). */
export function sliceExtents(extents: readonly Extent[], offset: number, length: number): Extent[] {
  const out: Extent[] = [];
  let at = 0;
  for (const e of extents) {
    if (length <= 0) break;
    if (offset < at + e.length) {
      const skip = Math.max(0, offset - at);
      const n = Math.min(e.length - skip, length);
      out.push({ position: e.position + skip, length: n });
      offset += n;
      length -= n;
    }
    at += e.length;
  }
  return out;
}

/**
 * `count` random 4 KiB reads inside files (4 KiB-aligned file offsets, files chosen
 * by size), as one extent list read with 4 KiB chunks: every chunk is one random read,
 * so the scan's per-chunk latency is the per-read latency.
 */
export function randomReadPlan(files: readonly FileExtents[], count: number, seed: number): Extent[] {
  const eligible = files.filter((f) => f.size >= RANDOM_READ_BYTES);
  if (eligible.length === 0) return [];
  const cumulative: number[] = [];
  let sum = 0;
  for (const f of eligible) cumulative.push((sum += f.size));
  const rnd = seededRandom(seed);
  const plan: Extent[] = [];
  for (let i = 0; i < count; i++) {
    const target = rnd() * sum;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    const file = eligible[lo]!;
    const slots = Math.floor((file.size - RANDOM_READ_BYTES) / RANDOM_READ_BYTES) + 1;
    const offset = Math.floor(rnd() * slots) * RANDOM_READ_BYTES;
    plan.push(...sliceExtents(file.extents, offset, RANDOM_READ_BYTES));
  }
  return plan;
}

export interface WalkResult {
  entries: number;
  seconds: number;
  files: FileExtents[];
  /**
   * The source the files' extents address: the volume's own where the format offers
   * raw extents, else its readers laid end to end (file-data-source.ts).
   */
  source: BlockSource;
}

/** Lists every directory from the root (depth-first, bounded by the entries seen); collects file extents for the read workloads. */
export function walkMetadata(volume: Volume, options: { collectExtents: boolean; maxEntries?: number }): WalkResult {
  const t0 = performance.now();
  const files: FileExtents[] = [];
  const collected: { entry: EntryInfo; extents: Extent[] | null }[] = [];
  const raw = volume.capabilities.rawExtents;
  const maxEntries = options.maxEntries ?? 50_000_000;
  // directories are kept as the EntryInfo the volume returned, so names holding '/' stay reachable
  const stack: (string | EntryInfo)[] = ['/'];
  let entries = 0;
  while (stack.length > 0) {
    const dir = stack.pop()!;
    const listing: EntryInfo[] = volume.list(dir);
    for (const entry of listing) {
      if (entry.name === '.' || entry.name === '..') continue;
      if (++entries > maxEntries) throw new DiskkitError(ErrorCode.LIMIT, `more than ${maxEntries} entries`, { context: { path: entry.path } });
      if (entry.type === 'dir') stack.push(entry);
      else if (options.collectExtents && entry.size > 0) {
        collected.push({ entry, extents: raw ? rawExtentsOf(volume, entry) : null });
      }
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  if (collected.every((c) => c.extents !== null)) {
    for (const { entry, extents } of collected) files.push({ path: entry.path, size: entry.size, extents: extents! });
    return { entries, seconds, files, source: volume.source };
  }
  // Some file has no raw extents (compressed, resident...): every file is read through the
  // format's readers then, each one extent of their concatenation, so one source serves all.
  const source = new FileDataBlockSource(volume.source.name, collected.map(({ entry }) => ({ size: entry.size, open: () => volume.openFile(entry) })));
  collected.forEach(({ entry }, i) => files.push({ path: entry.path, size: entry.size, extents: [{ position: source.startOf(i), length: entry.size }] }));
  return { entries, seconds, files, source };
}

/** A volume that can report the hit/miss counters of its caches (the FAT engine). */
export interface CacheStatsProvider {
  cacheStats(): Record<string, { hits: number; misses: number }>;
}

export function cacheStatsOf(volume: Volume | null): Record<string, { hits: number; misses: number }> | null {
  const v = volume as (Volume & Partial<CacheStatsProvider>) | null;
  return v && typeof v.cacheStats === 'function' ? v.cacheStats() : null;
}

export type AllocationResult =
  | { status: 'skipped'; reason: string }
  | { status: 'ran'; allocations: number; usPerAllocation: number; bitmapBuildMs: number; fillLevelPct: number };

/**
 * Cluster allocation at the image's fill level: single-cluster allocations timed on
 * the volume's in-memory free-cluster bitmap, taken and given back. Nothing is
 * written, so the user's image is never modified and no copy is needed. Skipped,
 * with the reason, when the format cannot allocate.
 */
export function allocationWorkload(volume: Volume, count = 10_000): AllocationResult {
  if (typeof volume.measureAllocation !== 'function') return { status: 'skipped', reason: 'this format cannot allocate' };
  const r = volume.measureAllocation(count);
  if (r.allocations === 0) return { status: 'skipped', reason: 'the image is full' };
  return { status: 'ran', allocations: r.allocations, usPerAllocation: Math.round(r.microsPerAllocation * 1000) / 1000, bitmapBuildMs: Math.round(r.bitmapBuildMs * 10) / 10, fillLevelPct: r.fillLevelPct };
}
