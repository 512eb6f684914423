/** `diskkit info IMAGE`: what the volume is, its geometry and its usage. */
import type { Command } from 'commander';
import { count, globalOptions, parseImageRef, printJson, runAction, escapeName } from './context.js';

export function define(program: Command): void {
  program
    .command('info')
    .description('show the file system type, geometry, usage and label of an image')
    .argument('<image>', 'image file or block device')
    .action((image: string, _opts: unknown, command: Command) => {
      const g = globalOptions(command);
      const ref = parseImageRef(image)!;
      return runAction(ref.image, async () => {
        const { openVolume } = await import('../engine/open-volume.js');
        const volume = openVolume(ref.image, { partition: g.partition });
        try {
          const info = { image: ref.image, partition: volume.partition ?? null, ...volume.info() };
          if (g.json) printJson(info);
          else process.stdout.write(formatInfo(info));
        } finally {
          volume.close();
        }
      });
    });
}

function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]} (${n} bytes)`;
}

function formatInfo(info: Record<string, unknown>): string {
  const i = info as Record<string, any>;
  const root = i.rootDirectory && 'cluster' in i.rootDirectory ? `cluster ${i.rootDirectory.cluster}` : i.rootDirectory ? `sector ${i.rootDirectory.sector}, ${count(i.rootDirectory.entries, 'entry', 'entries')}` : '-';
  const lines: [string, string][] = [
    ['image', escapeName(String(i.image))],
    ['partition', i.partition === null ? 'none (whole image)' : `${i.partition.index} (${i.partition.type}, starts at byte ${i.partition.start})`],
    ['type', String(i.fatType ?? i.format)],
    ['label', i.label === null ? '(none)' : escapeName(String(i.label))],
    ['volume id', i.volumeId ?? '(none)'],
    ['OEM name', escapeName(String(i.oemName ?? ''))],
    ['volume size', formatBytes(i.volumeBytes ?? i.totalBytes)],
    ['sector size', `${i.bytesPerSector} bytes`],
    ['cluster size', `${count(i.bytesPerCluster, 'byte')} (${count(i.sectorsPerCluster, 'sector')})`],
    ['reserved sectors', String(i.reservedSectors)],
    ['FATs', `${i.numberOfFats} × ${count(i.sectorsPerFat, 'sector')}`],
    ['root directory', root],
    ['first data sector', String(i.firstDataSector)],
    ['clusters', `${i.clusters?.total} total, ${i.clusters?.used} used, ${i.clusters?.free} free`],
    ['data size', formatBytes(i.totalBytes)],
    ['used', formatBytes(i.usedBytes)],
    ['free', formatBytes(i.freeBytes)],
  ];
  if (i.fsInfo) lines.push(['FSInfo hints', `free ${i.fsInfo.freeCount ?? 'unknown'}, next free ${i.fsInfo.nextFree ?? 'unknown'}`]);
  const width = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, v]) => `${(k + ':').padEnd(width + 1)} ${v}`).join('\n') + '\n';
}
