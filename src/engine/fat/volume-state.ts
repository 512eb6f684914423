/**
 * What the FAT write side (volume-writer.ts) and the fast tree walk (directory-walk.ts)
 * need of an open FatVolume, as an interface of its own: they depend on this, and
 * volume.ts (which uses both) implements it, so no import runs back to volume.ts.
 */
import type { BlockSource } from '../../io/block-source.js';
import type { EntryInfo } from '../volume.js';
import type { BootSector } from './boot-sector.js';
import type { DirRecord, ParsedDirectory } from './directory.js';
import type { FatTable } from './fat-table.js';

/** Where a directory lives: the fixed FAT12/16 root region (cluster 0) or a cluster chain. */
export interface DirectoryRef {
  /** First cluster, or 0 for the FAT12/16 fixed root region. */
  cluster: number;
  path: string;
  /** The directory this one was reached from (null for the root), to refuse directory loops. */
  parent?: DirectoryRef | null;
}

/** The open volume as its writer and walker see it (implemented by FatVolume). */
export interface FatVolumeState {
  readonly source: BlockSource;
  readonly boot: BootSector;
  readonly fat: FatTable;
  readonly writable: boolean;
  /** Cluster of the root directory: FAT32's root cluster, or 0 for the fixed region. */
  readonly rootCluster: number;
  readDirectoryBytes(dir: DirectoryRef): Uint8Array;
  readDirectory(dir: DirectoryRef, options?: { deleted?: boolean }): ParsedDirectory;
  directoryAt(path: string): DirectoryRef;
  stat(path: string): EntryInfo;
  forgetDirectory(cluster: number): void;
  forgetPaths(): void;
  rememberDirectory(path: string, dir: DirectoryRef): void;
  childRef(record: DirRecord, path: string, parent: DirectoryRef): DirectoryRef;
  childRefAt(cluster: number, path: string, parent: DirectoryRef): DirectoryRef;
  entryInfo(record: DirRecord, path: string): EntryInfo;
}
