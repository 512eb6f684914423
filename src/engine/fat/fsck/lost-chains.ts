/**
 * Lost clusters: allocated in the FAT (not free, not bad) but reached by no entry.
 * They are grouped into chains: a head is a lost cluster no other lost cluster links
 * to; each chain is walked over the ownership map (so chains that merge or loop stop
 * at a cluster already taken). Lost clusters left after that sit on pure cycles; each
 * cycle becomes one chain, cut where it closes.
 */
import { badClusterValue } from '../fat-entry.js';
import { FsckCode } from './findings.js';
import { OwnerKind } from './ownership.js';
import { walkChain, type WalkContext } from './tree-walk.js';

/** Free and bad cluster counts of the table (fat-copies.ts counts them while decoding). */
export interface ClusterCounts {
  free: number;
  bad: number;
}

export function findLostChains(ctx: WalkContext, counts: ClusterCounts): void {
  const { next, owners, plan, findings } = ctx;
  const owner = owners.owner;
  const maxCluster = ctx.boot.clusterCount + 1;
  const bad = badClusterValue(ctx.boot.fatType);
  // Every allocated cluster owned by some chain means nothing is lost: a clean volume needs no pass over the table here.
  if (owners.allocatedOwned === ctx.boot.clusterCount - counts.free - counts.bad) return;
  const isLost = (c: number): boolean => owner[c] === 0 && next[c] !== 0 && next[c] !== bad;
  let firstLost = 0;
  for (let c = 2; c <= maxCluster && firstLost === 0; c++) if (isLost(c)) firstLost = c;
  if (firstLost === 0) return;
  const pointed = new Uint8Array(maxCluster + 1);
  for (let c = firstLost; c <= maxCluster; c++) {
    if (!isLost(c)) continue;
    const v = next[c]!;
    if (v >= 2 && v <= maxCluster && isLost(v)) pointed[v] = 1;
  }
  const take = (head: number): void => {
    const id = owners.add(OwnerKind.LOST, '', 0, -1, head, 0);
    const r = walkChain(ctx, id, head, Infinity, null);
    owners.clusters[id] = r.count;
    // The last cluster of the lost chain: where the walk stopped.
    let last = head;
    let terminated = r.problem === null;
    if (r.problem === 'loop' || r.problem === 'cross') last = r.prev === 0 ? head : r.prev;
    else if (r.problem === 'range') last = r.at;
    else last = lastOf(head, r.count);
    if (r.problem !== null) terminated = false;
    plan.lostChains.push({ owner: id, head, length: r.count, last, terminated });
    findings.add(FsckCode.LOST, `${r.count} lost cluster${r.count === 1 ? '' : 's'} starting at cluster ${head}`, { clusters: [head] });
  };
  const lastOf = (head: number, count: number): number => {
    let c = head;
    for (let i = 1; i < count; i++) c = next[c]!;
    return c;
  };
  for (let c = 2; c <= maxCluster; c++) if (isLost(c) && pointed[c] === 0) take(c);
  // What is left lies on cycles.
  for (let c = 2; c <= maxCluster; c++) if (isLost(c)) take(c);
}
