#!/usr/bin/env node
// `npm start`: a tour of diskkit's main job on an embedded default: a fresh FAT32
// image is made, files are copied in, listed, checked and benchmarked, and the
// shipped NTFS $MFT fixture is indexed, and a shipped NTFS volume is listed and a
// folder copied out of it. Every step runs the real CLI, as a user would.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin/diskkit.js');
const work = mkdtempSync(join(tmpdir(), 'diskkit-demo-'));
const image = join(work, 'firmware.img');

// Bold titles only on a terminal that wants colour (NO_COLOR, --no-color and pipes get plain text).
const bold = process.stdout.isTTY && !process.env.NO_COLOR && !process.argv.includes('--no-color') ? (t) => `\x1b[1m${t}\x1b[0m` : (t) => t;

function step(title, args) {
  process.stdout.write(`\n${bold(`# ${title}`)}\n$ diskkit ${args.map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ')}\n`);
  try {
    execFileSync(process.execPath, [bin, ...args], { stdio: 'inherit', cwd: work });
  } catch (error) {
    process.stderr.write(`demo: step failed (exit ${error.status}); files are in ${work}\n`);
    process.exit(1);
  }
}

// A small tree like a firmware data partition: config, a boot payload, logs, a long name.
const tree = join(work, 'rootfs');
mkdirSync(join(tree, 'boot'), { recursive: true });
mkdirSync(join(tree, 'config', 'network'), { recursive: true });
mkdirSync(join(tree, 'logs'), { recursive: true });
writeFileSync(join(tree, 'boot', 'kernel.bin'), Buffer.alloc(3 * 1024 * 1024, 0x5a));
writeFileSync(join(tree, 'config', 'device.json'), JSON.stringify({ id: 'demo-01', baud: 115200 }, null, 2) + '\n');
writeFileSync(join(tree, 'config', 'network', 'Wireless Settings.conf'), 'ssid=diskkit\n');
for (let i = 0; i < 20; i++) writeFileSync(join(tree, 'logs', `boot-${String(i).padStart(3, '0')}.log`), `boot ${i} ok\n`.repeat(i + 1));

process.stdout.write(`diskkit demo in ${work}\n`);
step('make a fresh 600 MiB FAT32 image (sparse, instant)', ['mkfs', image, '--size', '600M', '--label', 'FIRMWARE']);
step('what is in it', ['info', image]);
step('copy a tree in', ['cp', '-r', `${tree}/.`, `${image}:/`]);
step('list it', ['ls', '-lR', image]);
step('read a file back', ['cat', `${image}:/config/device.json`]);
step('check it', ['fsck', image]);
step('benchmark reads on it', ['bench', image, '--runs', '1', '--seconds', '1']);
step('index the shipped NTFS $MFT fixture (first rows)', ['mft', 'index', join(root, 'fixtures/ntfs/small.mft'), '--format', 'csv', '--out', join(work, 'mft.csv')]);
process.stdout.write(execFileSync('head', ['-n', '6', join(work, 'mft.csv')], { encoding: 'utf8' }));
step('MFT summary', ['--json', 'mft', 'index', join(root, 'fixtures/ntfs/small.mft')]);
// fixtures/ntfs/demo.ntfs.gz is made by `fixtures/make-ntfs-fixtures.sh DIR demo` (mkntfs + ntfs-3g).
const ntfs = join(work, 'evidence.ntfs');
writeFileSync(ntfs, gunzipSync(readFileSync(join(root, 'fixtures/ntfs/demo.ntfs.gz'))));
step('an NTFS volume reads like a FAT one (read-only)', ['info', ntfs]);
step('list it, with alternate data streams and deleted entries', ['ls', '-lR', '--streams', '--deleted', `${ntfs}:/Users`]);
step('read an alternate data stream', ['cat', `${ntfs}:/Users/alice/Documents/report.txt:Zone.Identifier`]);
step('copy a folder out (LZNT1-compressed files are decompressed)', ['cp', '-r', `${ntfs}:/Users/alice`, join(work, 'alice')]);
process.stdout.write(execFileSync('ls', ['-lR', join(work, 'alice')], { encoding: 'utf8' }));
process.stdout.write(`\nAll files are in ${work}\n`);
