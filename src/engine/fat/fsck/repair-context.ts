/**
 * What a repair step may do to the image (repair.ts builds it, found-dir.ts uses it to
 * save lost chains): in a module of its own so neither imports the other for it.
 */
import type { BlockSource } from '../../../io/block-source.js';
import type { BootSector } from '../boot-sector.js';
import type { Owners } from './ownership.js';

export interface RepairContext {
  source: BlockSource;
  boot: BootSector;
  next: Uint32Array;
  owners: Owners;
  rootOwner: number;
  clusterPosition(cluster: number): number;
  setNext(cluster: number, value: number): void;
  setEnd(cluster: number): void;
  /** Finds `count` free clusters (lowest first) and reserves them; null when the volume lacks them. */
  allocate(count: number): number[] | null;
  writeZeroCluster(cluster: number): void;
}

