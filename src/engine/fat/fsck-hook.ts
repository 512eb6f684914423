/** FAT's fsck hook: checkFat's report, with the lines `diskkit fsck` prints for people. */
import type { BlockSource } from '../../io/block-source.js';
import type { FsckOutcome, FsckRequest } from '../formats.js';
import { checkFat } from './fsck/index.js';

export async function fsckFat(source: BlockSource, request: FsckRequest): Promise<FsckOutcome> {
  const report = await checkFat(source, { repair: request.repair, freeLost: request.freeLost, mode: request.mode });
  const s = report.stats;
  return {
    clean: report.clean,
    errors: report.errors,
    repairs: report.repairs,
    uncorrected: report.uncorrected,
    stats: s,
    statsLine: `${s.fatType}: ${s.files} files, ${s.dirs} directories, ${s.clustersUsed} clusters used, ${s.clustersFree} free, ${s.clustersBad} bad, ${s.lostChains} lost chains (${s.lostClusters} clusters)`,
    summary: `${s.files + s.dirs} files, ${s.clustersUsed}/${s.clustersTotal} clusters`,
  };
}
