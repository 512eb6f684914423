/**
 * `fsck` for FAT12/16/32: reads the reserved region and every FAT copy, walks the
 * directory tree over a cluster-ownership map, groups lost clusters, and reports
 * findings with stable codes. With `repair` it carries out the plan the analysis
 * made and checks the image again, so what it reports as corrected is verified.
 */
import { journalOf } from '../../journal/index.js';
import { readBytes, type BlockSource } from '../../../io/block-source.js';
import type { ReadMode } from '../../../io/scan.js';
import { DiskkitError, ErrorCode } from '../../errors.js';
import { decodeBootSector, type BootSector } from '../boot-sector.js';
import { badClusterValue, endOfChainValue } from '../fat-entry.js';
import { checkBootRegion, checkFsInfoHints } from './boot-checks.js';
import { checkReservedEntries, readFatCopies, validMedia } from './fat-copies.js';
import { FindingList, FsckCode, type Finding, type FsckReport, type FsckStats } from './findings.js';
import { findLostChains, type ClusterCounts } from './lost-chains.js';
import { Owners } from './ownership.js';
import { emptyPlan, type RepairPlan } from './plan.js';
import { walkTree, type WalkContext } from './tree-walk.js';
import { checkVolumeLabel, type RootLabel } from './volume-label.js';

export interface FsckOptions {
  /** Correct what can be corrected (the source must be writable). */
  repair?: boolean;
  /** Free lost chains instead of saving them under /FOUND.nnn. */
  freeLost?: boolean;
  /** Read mode for the bulk reads (FAT copies, directories). */
  mode?: ReadMode;
}

/** Decodes the boot sector of `source`, as FatVolume.open does (bytes per sector may exceed 512). */
export function readBootSector(source: BlockSource): BootSector {
  if (source.size < 512) {
    throw new DiskkitError(ErrorCode.TRUNCATED, `image is ${source.size} bytes, too small for a FAT boot sector`, { context: { image: source.name } });
  }
  const first = readBytes(source, 0, 512);
  const bps = first[11]! | (first[12]! << 8);
  const sector = bps > 512 && bps <= 4096 && source.size >= bps ? readBytes(source, 0, bps) : first;
  try {
    return decodeBootSector(sector, source.size);
  } catch (error) {
    if (error instanceof DiskkitError) error.context.image ??= source.name;
    throw error;
  }
}

interface Analysis {
  findings: FindingList;
  plan: RepairPlan;
  owners: Owners;
  files: number;
  dirs: number;
  rootLabel: RootLabel | null;
  /** Free and bad clusters of the table the tree was checked against. */
  free: number;
  bad: number;
}

async function analyzeTree(source: BlockSource, boot: BootSector, next: Uint32Array, counts: ClusterCounts, mode: ReadMode | undefined): Promise<Analysis> {
  const ctx: WalkContext = {
    source,
    boot,
    next,
    owners: new Owners(boot.clusterCount + 1),
    findings: new FindingList(),
    plan: emptyPlan(),
    mode,
    files: 0,
    dirs: 0,
    rootLabel: null,
  };
  await walkTree(ctx);
  findLostChains(ctx, counts);
  return { findings: ctx.findings, plan: ctx.plan, owners: ctx.owners, files: ctx.files, dirs: ctx.dirs, rootLabel: ctx.rootLabel, free: counts.free, bad: counts.bad };
}

/**
 * Repair passes at most: a pass's re-check in memory may find what the pass uncovered
 * (three were enough for every case of the convergence corpus that a second pass helped).
 */
export const MAX_REPAIR_PASSES = 3;

/** Checks (and with `repair`, repairs) the FAT file system at byte 0 of `source`. */
export async function checkFat(source: BlockSource, options: FsckOptions = {}): Promise<FsckReport> {
  const first = await analyze(source, options.mode);
  if (!options.repair || first.report.clean) return first.report;
  if (!source.writable) throw new DiskkitError(ErrorCode.USAGE, 'repair needs the image opened for writing', { context: { image: source.name } });
  const fixable = first.report.errors.filter((f) => f.fixable);
  let repairs: FsckReport['repairs'] = [];
  if (fixable.length > 0) {
    // The repair code (and the FAT writer it uses) is loaded only when there is something to repair.
    const [{ applyPlan }, { StagedWrites }] = await Promise.all([import('./repair.js'), import('../../../io/staged-writes.js')]);
    // The whole repair is carried out in memory first: an error anywhere in it leaves the image as it was.
    const staged = new StagedWrites(source);
    let current = first;
    for (let pass = 1; ; pass++) {
      let outcome;
      try {
        outcome = applyPlan({
          source: staged,
          boot: current.boot,
          next: current.next,
          owners: current.analysis.owners,
          bootState: current.bootState,
          plan: current.analysis.plan,
          freeLost: Boolean(options.freeLost),
          fat1: current.fat1,
        });
      } catch (error) {
        if (error instanceof DiskkitError) throw error;
        throw new DiskkitError(ErrorCode.CORRUPT, `the repair could not be planned, nothing was written: ${error instanceof Error ? error.message : String(error)}`, { context: { image: source.name }, cause: error });
      }
      repairs = [...repairs, ...outcome.repairs];
      if (pass === MAX_REPAIR_PASSES) break;
      // One repair can uncover the next: an entry removed from slot 0 frees the slot its
      // '.' belongs in, a file truncated to its chain frees clusters another chain may take.
      // The staged image is checked again and repaired again while that finds something
      // fixable the previous pass did not already try (then the pass changed nothing).
      const again = await analyze(staged, 'streaming');
      const tried = new Set(current.report.errors.map((f) => `${f.code} ${f.path ?? ''} ${f.message}`));
      const fresh = again.report.errors.filter((f) => f.fixable && !tried.has(`${f.code} ${f.path ?? ''} ${f.message}`));
      if (fresh.length === 0) break;
      current = again;
    }
    // The staged writes reach the image as one transaction of its rollback journal
    // (applyPlan saw only the staging source): committed when all are written, else rolled back.
    const journal = journalOf(source);
    try {
      staged.commit();
      journal?.commit();
    } catch (error) {
      journal?.rollback();
      throw error;
    }
  }
  // Check again: what is still found was not corrected.
  const second = await analyze(source, options.mode);
  return { ...first.report, repairs, uncorrected: second.report.errors, stats: second.report.stats };
}

async function analyze(source: BlockSource, mode: ReadMode | undefined) {
  const boot = readBootSector(source);
  const findings = new FindingList();
  const bootState = checkBootRegion(source, boot, findings);
  const copies = await readFatCopies(source, boot, mode);
  const maxCluster = boot.clusterCount + 1;

  // With differing copies, the copy whose chains agree best with the directory tree wins.
  let chosen = 0;
  let analysis = await analyzeTree(source, boot, copies.tables[0]!, copies.counts[0]!, mode);
  if (copies.differs.some(Boolean)) {
    for (let k = 1; k < copies.tables.length; k++) {
      if (!copies.differs[k] || copies.tables[k] === copies.tables[0]) continue;
      const other = await analyzeTree(source, boot, copies.tables[k]!, copies.counts[k]!, mode);
      if (other.findings.items.length + other.findings.omitted < analysis.findings.items.length + analysis.findings.omitted) {
        analysis = other;
        chosen = k;
      }
    }
    const differing = copies.differing.flat();
    const shown = [...new Set(differing)].sort((a, b) => a - b).slice(0, 8);
    findings.add(FsckCode.FAT_MISMATCH, `FAT copies differ${shown.length ? ` (first at cluster${shown.length > 1 ? 's' : ''} ${shown.join(', ')})` : ' (in reserved bits)'}; FAT ${chosen + 1} agrees best with the directory tree`, {
      clusters: shown,
    });
  }
  const next = copies.tables[chosen]!;
  // An invalid BPB media byte is set from FAT[0] when every FAT copy holds the same valid one
  // there (mkfs.fat writes it in both places); otherwise it stays, reported as not fixable.
  let bootMedia: number | null = null;
  if (!validMedia(boot.media)) {
    const fatMedia = next[0]! & 0xff;
    const agreed = validMedia(fatMedia) && copies.tables.every((t) => (t[0]! & 0xff) === fatMedia);
    findings.add(
      FsckCode.MEDIA,
      `boot sector media byte 0x${boot.media.toString(16)} is not a valid media descriptor${agreed ? ` (FAT[0] says 0x${fatMedia.toString(16)})` : ''}`,
      { fixable: agreed },
    );
    if (agreed) bootMedia = fatMedia;
  }
  const reserved = checkReservedEntries(next, boot, findings, bootMedia ?? boot.media);
  findings.merge(analysis.findings);

  const free = analysis.free;
  const badCount = analysis.bad;
  const fsInfoWrong = checkFsInfoHints(bootState, free, maxCluster, findings);
  const plan = analysis.plan;
  const label = checkVolumeLabel(boot, bootState.primary, analysis.rootLabel, findings);
  plan.bootLabel = label.bootLabel;
  plan.restoreSignature = label.restoreSignature;
  if (label.removeRootEntry !== null) plan.entryEdits.push({ position: label.removeRootEntry, path: '/', delete: true, attributes: 0, code: FsckCode.LABEL });
  if (label.rootLabel !== null) plan.entryEdits.push({ position: label.rootLabel.position, path: '/', rawName: label.rootLabel.name, code: FsckCode.LABEL });
  plan.rewriteFsInfoBackup = bootState.fsInfoBackupDamaged;
  plan.chosenCopy = chosen;
  plan.syncFats = copies.differs.some(Boolean);
  plan.fixFat0 = reserved.fat0Bad;
  plan.fixFat1 = reserved.fat1NotEnd || reserved.dirtyBit || reserved.hardErrorBit;
  plan.clearDirty = bootState.dirtyFlag;
  plan.restoreBackup = bootState.backupDiffers;
  plan.bootMedia = bootMedia;
  plan.backupField = bootState.backupFieldFix;
  plan.fsInfoField = bootState.fsInfoFieldFix;
  plan.rewriteFsInfo = fsInfoWrong || (bootState.fsInfoSector !== null && !bootState.fsInfoValid);

  let lostClusters = 0;
  for (const l of plan.lostChains) lostClusters += l.length;
  const stats: FsckStats = {
    fatType: boot.fatType.toUpperCase() as FsckStats['fatType'],
    files: analysis.files,
    dirs: analysis.dirs,
    clustersTotal: boot.clusterCount,
    clustersUsed: boot.clusterCount - free - badCount,
    clustersFree: free,
    clustersBad: badCount,
    lostChains: plan.lostChains.length,
    lostClusters,
  };
  const errors: Finding[] = findings.withSummaries();
  const fat1 = reserved.fat1NotEnd ? endOfChainValue(boot.fatType) : next[1]!;
  return {
    boot,
    bootState,
    next,
    analysis,
    fat1,
    report: { clean: errors.length === 0, errors, repairs: [], uncorrected: errors.filter(() => true), stats } satisfies FsckReport,
  };
}
