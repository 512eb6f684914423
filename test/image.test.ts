/**
 * openImage: which slice of a disk image holds the volume. Disks are partitioned by
 * sfdisk/sgdisk and formatted in place by `mkfs.fat --offset`, each FAT with its own
 * volume id so the test can tell which one was opened.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openImage, type OpenedImage } from '../src/engine/image.js';
import { decodeBootSector } from '../src/engine/fat/boot-sector.js';
import { readBytes } from '../src/io/block-source.js';
import { requireTools } from './helpers/oracle.js';

const MiB = 1024 * 1024;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'diskkit-image-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function sparseImage(bytes: number): string {
  const path = join(dir, `disk${counter++}.img`);
  closeSync(openSync(path, 'w'));
  truncateSync(path, bytes);
  return path;
}

function sfdisk(path: string, script: string): void {
  execFileSync('sfdisk', ['-q', '--no-reread', '--no-tell-kernel', path], { input: script, stdio: ['pipe', 'ignore', 'pipe'] });
}

/** Formats FAT inside the disk at `startSector`, `kib` KiB long, with volume id `id` (hex). */
function mkfsAt(path: string, startSector: number, kib: number, id: string, extra: string[] = []): void {
  execFileSync('mkfs.fat', ['--offset', String(startSector), '-i', id, ...extra, path, String(kib)], { stdio: 'ignore' });
}

/** The volume id of the FAT an opened image starts with: tells which partition was picked. */
function volumeIdOf(opened: OpenedImage): string {
  return decodeBootSector(readBytes(opened.source, 0, 512)).volumeId!.toString(16);
}

async function withImage<T>(path: string, options: Parameters<typeof openImage>[1], use: (o: OpenedImage) => T): Promise<T> {
  const opened = await openImage(path, options);
  try {
    return use(opened);
  } finally {
    opened.source.close();
  }
}

async function errorOf(run: () => unknown): Promise<{ code: string; message: string }> {
  try {
    await run();
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected an error');
}

const hasFatTools = requireTools('sfdisk', 'mkfs.fat');

describe('openImage', () => {
  it.runIf(requireTools('mkfs.fat'))('uses the whole image when it starts with a FAT boot sector', async () => {
    const path = join(dir, 'whole.img');
    execFileSync('mkfs.fat', ['-C', '-i', 'cafe0001', path, '2048'], { stdio: 'ignore' });
    await withImage(path, {}, (o) => {
      expect(o.partition).toBeNull();
      expect(o.format).toBe('fat');
      expect(o.source.size).toBe(2 * MiB);
      expect(volumeIdOf(o)).toBe('cafe0001');
    });
  });

  it.runIf(hasFatTools)('picks the only FAT partition of an MBR disk, at its offset, whatever the other partitions hold', async () => {
    const path = sparseImage(32 * MiB);
    sfdisk(path, 'label: dos\nstart=2048, size=4096, type=83\nstart=8192, size=8192, type=6\nstart=20480, size=2048, type=c\n');
    mkfsAt(path, 8192, 4096, 'cafe0002');
    await withImage(path, {}, (o) => {
      expect(o.format).toBe('fat');
      expect(o.partition).toMatchObject({ index: 2, start: 8192 * 512, size: 8192 * 512, typeCode: '0x06' });
      expect(o.source.size).toBe(8192 * 512);
      expect(o.source.baseOffset).toBe(8192 * 512);
      expect(volumeIdOf(o)).toBe('cafe0002');
    });
  });

  it.runIf(hasFatTools)('finds FAT by content, not by type byte: a 0x83 partition formatted FAT is found', async () => {
    const path = sparseImage(16 * MiB);
    sfdisk(path, 'label: dos\nstart=2048, size=4096, type=6\nstart=6144, size=4096, type=83\n');
    mkfsAt(path, 6144, 2048, 'cafe0003');
    await withImage(path, {}, (o) => {
      expect(o.partition?.index).toBe(2);
      expect(volumeIdOf(o)).toBe('cafe0003');
    });
  });

  it.runIf(hasFatTools)('opens a logical partition (number 5) inside an extended partition', async () => {
    const path = sparseImage(32 * MiB);
    sfdisk(path, 'label: dos\nstart=2048, size=4096, type=83\nstart=8192, size=40000, type=f\nstart=10240, size=8192, type=e\n');
    mkfsAt(path, 10240, 4096, 'cafe0005');
    await withImage(path, {}, (o) => {
      expect(o.partition).toMatchObject({ index: 5, kind: 'logical', start: 10240 * 512 });
      expect(volumeIdOf(o)).toBe('cafe0005');
    });
  });

  it.runIf(hasFatTools)('with two FAT partitions, refuses to guess and lists them; --partition picks one', async () => {
    const path = sparseImage(32 * MiB);
    sfdisk(path, 'label: dos\nstart=2048, size=8192, type=6\nstart=10240, size=8192, type=6\n');
    mkfsAt(path, 2048, 4096, 'cafe0011');
    mkfsAt(path, 10240, 4096, 'cafe0012');
    const error = await errorOf(() => openImage(path, {}));
    expect(error.code).toBe('E_PARTITION');
    expect(error.message).toContain(`1: start ${2048 * 512}, size ${8192 * 512}, FAT16 (0x06)`);
    expect(error.message).toContain(`2: start ${10240 * 512}, size ${8192 * 512}, FAT16 (0x06)`);
    await withImage(path, { partition: 2 }, (o) => expect(volumeIdOf(o)).toBe('cafe0012'));
    await withImage(path, { partition: 1 }, (o) => expect(volumeIdOf(o)).toBe('cafe0011'));
  });

  it.runIf(hasFatTools)('fails with E_PARTITION listing the partitions when --partition names none', async () => {
    const path = sparseImage(16 * MiB);
    sfdisk(path, 'label: dos\nstart=2048, size=4096, type=6\n');
    const error = await errorOf(() => openImage(path, { partition: 3 }));
    expect(error.code).toBe('E_PARTITION');
    expect(error.message).toMatch(/no partition 3/);
    expect(error.message).toContain(`1: start ${2048 * 512}, size ${4096 * 512}`);
  });

  it.runIf(hasFatTools)('fails with E_PARTITION when no partition holds a file system', async () => {
    const path = sparseImage(16 * MiB);
    sfdisk(path, 'label: dos\nstart=2048, size=4096, type=6\n');
    const error = await errorOf(() => openImage(path, {}));
    expect(error.code).toBe('E_PARTITION');
    expect(error.message).toMatch(/no Cartridge, FAT12\/16\/32 or NTFS file system.*1: start 1048576/);
  });

  it.runIf(hasFatTools)('says clearly when the chosen partition runs past the end of a truncated image', async () => {
    const path = sparseImage(32 * MiB);
    sfdisk(path, 'label: dos\nstart=2048, size=16384, type=6\n');
    mkfsAt(path, 2048, 8192, 'cafe0020');
    truncateSync(path, 4 * MiB);
    for (const options of [{}, { partition: 1 }]) {
      const error = await errorOf(() => openImage(path, options));
      expect(error.code).toBe('E_PARTITION');
      expect(error.message).toMatch(/partition 1 .* runs past the end of the image \(4194304 bytes\)/);
    }
  });

  it.runIf(requireTools('sgdisk', 'mkfs.fat'))('picks the FAT partition of a GPT disk', async () => {
    const path = sparseImage(32 * MiB);
    execFileSync('sgdisk', ['-n', '1:2048:+2M', '-t', '1:8300', '-n', '2:0:+8M', '-t', '2:0700', '-c', '2:data', path], { stdio: 'ignore' });
    const start = 2048 + 4096;
    mkfsAt(path, start, 8192, 'cafe0030');
    await withImage(path, {}, (o) => {
      expect(o.partition).toMatchObject({ index: 2, scheme: 'gpt', start: start * 512, size: 8 * MiB, name: 'data', type: 'Microsoft basic data' });
      expect(volumeIdOf(o)).toBe('cafe0030');
    });
  });

  it.runIf(requireTools('sfdisk', 'mkntfs'))('recognises NTFS in a partition by its boot sector', async () => {
    const path = sparseImage(32 * MiB);
    sfdisk(path, 'label: dos\nstart=2048, size=2048, type=83\nstart=4096, size=16384, type=7\n');
    const part = join(dir, 'ntfs-part.img');
    closeSync(openSync(part, 'w'));
    truncateSync(part, 16384 * 512);
    execFileSync('mkntfs', ['-F', '-f', '-q', part], { stdio: 'ignore' });
    execFileSync('dd', [`if=${part}`, `of=${path}`, 'bs=512', 'seek=4096', 'conv=notrunc,sparse'], { stdio: 'ignore' });
    await withImage(path, {}, (o) => {
      expect(o.format).toBe('ntfs');
      expect(o.partition?.index).toBe(2);
    });
    await withImage(part, {}, (o) => {
      expect(o.format).toBe('ntfs');
      expect(o.partition).toBeNull();
    });
  });

  it('returns an image with neither a file system nor a table whole, format unknown', async () => {
    const path = sparseImage(1 * MiB);
    await withImage(path, {}, (o) => {
      expect(o.format).toBe('unknown');
      expect(o.partition).toBeNull();
      expect(o.source.size).toBe(MiB);
    });
    expect((await errorOf(() => openImage(path, { partition: 1 }))).code).toBe('E_PARTITION');
  });

  it('reports a missing image file as E_NOT_FOUND', async () => {
    expect((await errorOf(() => openImage(join(dir, 'nope.img'), {}))).code).toBe('E_NOT_FOUND');
  });
});
