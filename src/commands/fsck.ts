/**
 * `diskkit fsck IMAGE [--repair|-y] [--free-lost] [-v] [--json] [--mode M]`: checks a
 * FAT image and, with --repair, corrects it. Exit codes follow fsck(8): 0 clean,
 * 1 errors found and all corrected, 4 errors left uncorrected, 8 operational error,
 * 16 usage error. Without --repair the image is opened read-only.
 */
import type { Command } from 'commander';
import { ErrorCode, isDiskkitError } from '../engine/errors.js';
import { count, escapeName, globalOptions, printJson, refuseReadOnlyImage, runAction, type GlobalOptions } from './context.js';
import { writeAllSync } from '../io/write-all.js';
import { FsckExitCode } from './exit-codes.js';
import { addIoOptions, scanOptionsFrom, type IoOptionValues } from './io-options.js';
import type { FsckFlagValues } from './fsck-flags.js';

export interface FsckFlags extends IoOptionValues, FsckFlagValues {
  freeLost?: boolean;
  verbose?: boolean;
  force?: boolean;
}

export function fsckExitCode(error: unknown): number {
  return isDiskkitError(error) && error.code === ErrorCode.USAGE ? FsckExitCode.USAGE : FsckExitCode.OPERATIONAL;
}

export function define(program: Command): void {
  const command = program
    .command('fsck')
    .description('check a FAT or Cartridge image (and repair it with --repair); exit codes as fsck(8)')
    .argument('<image>', 'image file or block device')
    .option('-y, --repair', 'correct the errors found (writes to the image)')
    .option('--free-lost', 'free lost cluster chains instead of saving them as /FOUND.000/FILE0000.CHK...')
    .option('-v, --verbose', 'also print the statistics and every repair in detail')
    .option('-a, --auto', 'repair automatically (fsck.fat -a; same as -y)')
    .option('-n, --check-only', 'check only, change nothing (fsck.fat -n; the default)')
    .option('-r, --interactive', 'show the errors, then ask before repairing (fsck.fat -r); needs a terminal, else exit 16')
    .option('-l, --list', 'list the path of each file as it is checked (fsck.fat -l)')
    .option('-V, --verify', 'after the check (and repair), check again read-only; errors left then exit 4 (fsck.fat -V)')
    .option('-w, --write-immediately', 'accepted for fsck.fat -w; repairs are always written at the end of the pass')
    .option('--force', 'with --repair: write even when the image file is read-only (chmod 444)')
    .addHelpText('after', '\nfsck.fat users: -a, -n, -r, -l, -v, -V and -w mean what they mean there; -y is -a.');
  addIoOptions(command).action((image: string, flags: FsckFlags, cmd: Command) => runFsck(image, flags, globalOptions(cmd)));
}

/** The `fsck` action (also run directly, without the command tree, by quick-start.ts for a plain `fsck IMAGE`). */
export function runFsck(image: string, flags: FsckFlags, g: GlobalOptions): Promise<void> {
  return runAction(
    image,
    async () => {
      const io = scanOptionsFrom(flags);
      const { planFsck, askToRepair, listFiles } = await import('./fsck-flags.js');
      const plan = planFsck(flags);
      if (flags.freeLost && !plan.repair && !plan.ask) throw (await import('./context.js')).usageError('--free-lost only makes sense with --repair');
      const [{ openImage }, { formatToOpen, requireHook }] = await Promise.all([import('../engine/image.js'), import('../engine/formats.js')]);
      if (plan.list && !g.json) await listFiles(image, g.partition);
      let repair = plan.repair;
      if (plan.ask) {
        // -r: a read-only pass first, its errors shown, then one question.
        const first = await openImage(image, { partition: g.partition });
        try {
          const found = await requireHook(formatToOpen(first.definition), 'fsck')(first.source, { repair: false, freeLost: false, mode: io.mode });
          repair = !found.clean && (await askToRepair(found.errors));
        } finally {
          first.source.close();
        }
      }
      // openImage picks the partition (--partition N, or the only one holding a file system) as every command does.
      if (repair) refuseReadOnlyImage(image, Boolean(flags.force));
      const { source, definition } = await openImage(image, { partition: g.partition, writable: repair });
      let check;
      try {
        check = requireHook(formatToOpen(definition), 'fsck');
      } catch (error) {
        source.close();
        throw error;
      }
      try {
        const report = await check(source, { repair, freeLost: Boolean(flags.freeLost), mode: io.mode });
        // -V: a second, read-only pass must find nothing left.
        const verify = plan.verify ? await check(source, { repair: false, freeLost: false, mode: io.mode }) : null;
        const code = verify && !verify.clean ? FsckExitCode.UNCORRECTED : report.clean ? FsckExitCode.CLEAN : report.uncorrected.length === 0 ? FsckExitCode.CORRECTED : FsckExitCode.UNCORRECTED;
        if (g.json) {
          printJson({
            image,
            clean: report.clean,
            errors: report.errors.map(({ code: c, message, path, clusters, omitted }) => ({ code: c, message, ...(path ? { path } : {}), ...(clusters ? { clusters } : {}), ...(omitted ? { omitted } : {}) })),
            repairs: report.repairs,
            // Always present: without --repair nothing was corrected, so every error is uncorrected.
            uncorrected: (repair ? report.uncorrected : report.errors).map(({ code: c, message, path, omitted }) => ({ code: c, message, ...(path ? { path } : {}), ...(omitted ? { omitted } : {}) })),
            stats: report.stats,
            ...(verify ? { verify: { clean: verify.clean, errors: verify.errors.map(({ code: c, message }) => ({ code: c, message })) } } : {}),
            exitCode: code,
          });
          return code;
        }
        const out: string[] = [];
        for (const f of report.errors) {
          const where = f.path ? `${f.path.map(escapeName).join(' and ')}: ` : '';
          out.push(`${f.code} ${where}${escapeName(f.message)}`);
        }
        if (repair) {
          for (const r of report.repairs) out.push(`fixed: ${r.path ? escapeName(r.path) + ': ' : ''}${escapeName(r.message)}`);
          for (const f of report.uncorrected) out.push(`NOT FIXED: ${f.code} ${f.path ? f.path.map(escapeName).join(' and ') + ': ' : ''}${escapeName(f.message)}`);
        }
        if (flags.verbose) out.push(report.statsLine);
        if (verify && !verify.clean) for (const f of verify.errors) out.push(`verify: ${f.code} ${escapeName(f.message)}`);
        const verdict = report.clean ? '' : repair ? (code === FsckExitCode.CORRECTED ? ' (all errors corrected)' : ` (${count(countFindings(report.uncorrected), 'error')} left)`) : ` (${count(countFindings(report.errors), 'error')}, not corrected)`;
        out.push(`${escapeName(image)}: ${report.summary}${verdict}`);
        writeAllSync(1, out.join('\n') + '\n');
        return code;
      } finally {
        source.close();
      }
    },
    fsckExitCode,
  );
}

/** Findings a list stands for: each listed one, plus the count a summary line carries (fsck summarises past a limit per code). */
function countFindings(findings: readonly { omitted?: number }[]): number {
  let n = 0;
  for (const f of findings) n += f.omitted ?? 1;
  return n;
}
