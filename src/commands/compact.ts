/**
 * `diskkit compact IMAGE`: moves the live pages and extents of a Cartridge image down into
 * its free space and truncates the file. Crash-safe at every instant: each pass is two
 * ordinary commits (docs/cartridge-format.md §16); a kill leaves the image as one of them.
 */
import type { Command } from 'commander';
import { type GlobalOptions, count, escapeName, globalOptions, printJson, refuseReadOnlyImage, runAction } from './context.js';

export function define(program: Command): void {
  program
    .command('compact')
    .description('move live data down and truncate a Cartridge image (crash-safe at every instant)')
    .argument('<image>', 'Cartridge image')
    .option('-f, --force', 'write even when the image file is read-only (chmod 444)')
    .addHelpText('after', '\nPages a snapshot holds stay where they are; delete snapshots first for the smallest file.')
    .action((image: string, flags: { force?: boolean }, command: Command) => runCompact(image, flags, globalOptions(command)));
}

/** The `compact` action (also run directly, without the command tree, by quick-start.ts for a plain `compact IMAGE`). */
export function runCompact(image: string, flags: { force?: boolean }, g: GlobalOptions): Promise<void> {
  return runAction(image, async () => {
    refuseReadOnlyImage(image, Boolean(flags.force));
    const [{ openCartridgeFile, closeCartridgeFile, compactCartridge, acquireWriterLock }, { openWithPassphrase }] = await Promise.all([import('../engine/cartridge/index.js'), import('./cartridge-secrets.js')]);
    // One writer at a time (IMAGE.lock): compaction beside another writer would move pages it is using.
    const release = acquireWriterLock(image);
    let file: Awaited<ReturnType<typeof openCartridgeFile>>;
    try {
      ({ value: file } = await openWithPassphrase(image, (passphrase) => openCartridgeFile(image, { writable: true, passphrase })));
    } catch (error) {
      release();
      throw error;
    }
    try {
      const report = compactCartridge(file);
      const before = report.pagesBefore * report.pageSize;
      const after = report.pagesAfter * report.pageSize;
      if (g.json) printJson({ image, bytesBefore: before, bytesAfter: after, ...report });
      else if (!g.quiet) {
        const kept = report.snapshots > 0 ? `; pages held by ${count(report.snapshots, 'snapshot')} stayed in place` : '';
        process.stdout.write(`${escapeName(image)}: ${before} -> ${after} bytes (${report.pagesBefore} -> ${report.pagesAfter} pages), ${count(report.extentsMoved, 'extent')} and ${count(report.pagesMoved, 'page')} moved in ${count(report.passes, 'pass', 'passes')}${kept}\n`);
      }
    } finally {
      closeCartridgeFile(file);
      release();
    }
  });
}
