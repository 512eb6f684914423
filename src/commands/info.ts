/** `diskkit info IMAGE`: what the volume is, its geometry and its usage. */
import type { Command } from 'commander';
import type { InfoDetail } from '../engine/volume.js';
import { globalOptions, parseImageRef, printJson, runAction, escapeName, type GlobalOptions } from './context.js';
import { writeAllSync } from '../io/write-all.js';

export function define(program: Command): void {
  program
    .command('info')
    .description('show the file system type, geometry, usage and label of an image')
    .argument('<image>', 'image file or block device')
    .action((image: string, _opts: unknown, command: Command) => runInfo(image, globalOptions(command)));
}

/** The `info` action (also run directly, without the command tree, by quick-start.ts). */
export function runInfo(image: string, g: GlobalOptions): Promise<void> {
  const ref = parseImageRef(image)!;
  return runAction(ref.image, async () => {
    const { openVolume } = await import('../engine/open-volume.js');
    const volume = await openVolume(ref.image, { partition: g.partition });
    try {
      const { details, ...fields } = volume.info();
      if (g.json) printJson({ image: ref.image, partition: volume.partition ?? null, ...fields });
      // fd 1 directly, as printJson: the stdout stream would cost more than the rest of the work.
      else writeAllSync(1, formatInfo(ref.image, volume.partition ?? null, details));
    } finally {
      volume.close();
    }
  });
}

/** The volume's own detail lines (the format decides them), after where the image is. */
function formatInfo(image: string, partition: { index: number; type: string; start: number } | null, details: InfoDetail[]): string {
  const lines: [string, string][] = [
    ['image', escapeName(image)],
    ['partition', partition === null ? 'none (whole image)' : `${partition.index} (${partition.type}, starts at byte ${partition.start})`],
    ...details.map((d): [string, string] => [d.label, escapeName(d.value)]),
  ];
  const width = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, v]) => `${(k + ':').padEnd(width + 1)} ${v}`).join('\n') + '\n';
}
