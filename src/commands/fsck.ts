/**
 * `diskkit fsck IMAGE [--repair|-y] [--free-lost] [-v] [--json] [--mode M]`: checks a
 * FAT image and, with --repair, corrects it. Exit codes follow fsck(8): 0 clean,
 * 1 errors found and all corrected, 4 errors left uncorrected, 8 operational error,
 * 16 usage error. Without --repair the image is opened read-only.
 */
import type { Command } from 'commander';
import { ErrorCode, isDiskkitError } from '../engine/errors.js';
import { escapeName, globalOptions, printJson, runAction } from './context.js';
import { FsckExitCode } from './exit-codes.js';
import { addIoOptions, scanOptionsFrom, type IoOptionValues } from './io-options.js';

interface FsckFlags extends IoOptionValues {
  repair?: boolean;
  freeLost?: boolean;
  verbose?: boolean;
}

export function fsckExitCode(error: unknown): number {
  return isDiskkitError(error) && error.code === ErrorCode.USAGE ? FsckExitCode.USAGE : FsckExitCode.OPERATIONAL;
}

export function define(program: Command): void {
  const command = program
    .command('fsck')
    .description('check a FAT image (and repair it with --repair); exit codes as fsck(8)')
    .argument('<image>', 'image file or block device')
    .option('-y, --repair', 'correct the errors found (writes to the image)')
    .option('--free-lost', 'free lost cluster chains instead of saving them as /FOUND.000/FILE0000.CHK...')
    .option('-v, --verbose', 'also print the statistics and every repair in detail');
  addIoOptions(command).action((image: string, flags: FsckFlags, cmd: Command) => {
    const g = globalOptions(cmd);
    return runAction(
      image,
      async () => {
        const io = scanOptionsFrom(flags);
        if (flags.freeLost && !flags.repair) throw (await import('./context.js')).usageError('--free-lost only makes sense with --repair');
        const [{ openImage }, { formatToOpen, requireHook }] = await Promise.all([import('../engine/image.js'), import('../engine/formats.js')]);
        // openImage picks the partition (--partition N, or the only one holding a file system) as every command does.
        const { source, definition } = openImage(image, { partition: g.partition, writable: Boolean(flags.repair) });
        let check;
        try {
          check = requireHook(formatToOpen(definition), 'fsck');
        } catch (error) {
          source.close();
          throw error;
        }
        try {
          const report = await check(source, { repair: Boolean(flags.repair), freeLost: Boolean(flags.freeLost), mode: io.mode });
          const code = report.clean ? FsckExitCode.CLEAN : report.uncorrected.length === 0 ? FsckExitCode.CORRECTED : FsckExitCode.UNCORRECTED;
          if (g.json) {
            printJson({
              image,
              clean: report.clean,
              errors: report.errors.map(({ code: c, message, path, clusters }) => ({ code: c, message, ...(path ? { path } : {}), ...(clusters ? { clusters } : {}) })),
              repairs: report.repairs,
              uncorrected: flags.repair ? report.uncorrected.map(({ code: c, message, path }) => ({ code: c, message, ...(path ? { path } : {}) })) : undefined,
              stats: report.stats,
              exitCode: code,
            });
            return code;
          }
          const out: string[] = [];
          for (const f of report.errors) {
            const where = f.path ? `${f.path.map(escapeName).join(' and ')}: ` : '';
            out.push(`${f.code} ${where}${escapeName(f.message)}`);
          }
          if (flags.repair) {
            for (const r of report.repairs) out.push(`fixed: ${r.path ? escapeName(r.path) + ': ' : ''}${escapeName(r.message)}`);
            for (const f of report.uncorrected) out.push(`NOT FIXED: ${f.code} ${f.path ? f.path.map(escapeName).join(' and ') + ': ' : ''}${escapeName(f.message)}`);
          }
          if (flags.verbose) out.push(report.statsLine);
          const verdict = report.clean ? '' : flags.repair ? (code === FsckExitCode.CORRECTED ? ' (all errors corrected)' : ` (${report.uncorrected.length} errors left)`) : ` (${report.errors.length} errors, not corrected)`;
          out.push(`${escapeName(image)}: ${report.summary}${verdict}`);
          process.stdout.write(out.join('\n') + '\n');
          return code;
        } finally {
          source.close();
        }
      },
      fsckExitCode,
    );
  });
}
