/**
 * `diskkit label IMAGE [NEW]` / `diskkit label -c IMAGE`: shows, sets or clears the
 * volume label, as mlabel does. The label is written to the root directory's label
 * entry and the boot sector together (see engine/fat/label-writer.ts); the label
 * shown is the root entry's, falling back to the boot sector's, as `info` shows it.
 */
import type { Command } from 'commander';
import { escapeName, globalOptions, parseImageRef, printJson, runAction, usageError } from './context.js';
import { unsupportedError } from '../engine/formats.js';

export function define(program: Command): void {
  program
    .command('label')
    .description('show, set (NEW) or clear (-c) the volume label, as mlabel')
    .argument('<image>', 'image file (or IMAGE:)')
    .argument('[new]', 'new label: up to 11 characters, stored in upper case')
    .option('-c, --clear', 'remove the label (boot sector says NO NAME, root entry deleted)')
    .option('-s, --show', 'only show the label (the default without NEW)')
    .addHelpText('after', '\nExamples:\n  diskkit label disk.img\n  diskkit label disk.img BOOT\n  diskkit label -c disk.img')
    .action((target: string, label: string | undefined, opts: { clear?: boolean; show?: boolean }, command: Command) => {
      const g = globalOptions(command);
      const image = parseImageRef(target)!.image;
      return runAction(image, async () => {
        if (opts.clear && label !== undefined) throw usageError('give a new label or -c, not both');
        if (opts.show && (label !== undefined || opts.clear)) throw usageError('-s only shows the label; drop it to change the label');
        const change = opts.clear || label !== undefined;
        const { openVolume } = await import('../engine/open-volume.js');
        const volume = await openVolume(image, { partition: g.partition, writable: Boolean(change) });
        let stored: string | null;
        let bootSectorLabel: unknown;
        try {
          if (change) {
            if (!volume.setLabel) throw unsupportedError(volume.format, 'label', 'volumes have no label to change');
            // An empty NEW clears, as mlabel ::'' does.
            volume.setLabel(opts.clear || label!.trim() === '' ? null : label!);
            volume.commit();
          }
          // Read back as info shows it: the root entry's label, else the boot sector's.
          const info = volume.info();
          stored = info.label;
          bootSectorLabel = info.bootSectorLabel ?? null;
        } finally {
          volume.close();
        }
        if (g.json) printJson({ image, label: stored, bootSectorLabel, changed: Boolean(change) });
        else if (!change) process.stdout.write(stored === null ? 'Volume has no label\n' : `Volume label is ${escapeName(stored)}\n`);
      });
    });
}
