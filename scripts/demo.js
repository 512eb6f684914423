#!/usr/bin/env node
// `npm start`: a tour of diskkit's main job on an embedded default: a fresh FAT32
// image is made, files are copied in, listed, checked and benchmarked; the same tree
// goes into an encrypted Cartridge that is snapshotted, sealed and verified; the
// shipped NTFS $MFT fixture is indexed, and a shipped NTFS volume is listed and a
// folder copied out of it. Every step runs the real CLI, as a user would.
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// The command npm links (bin/diskkit), as a user runs it.
const bin = join(root, 'bin/diskkit');
const work = mkdtempSync(join(tmpdir(), 'diskkit-demo-'));
const image = join(work, 'firmware.img');

// Bold titles only on a terminal that wants colour (NO_COLOR, --no-color and pipes get plain text).
const bold = process.stdout.isTTY && !process.env.NO_COLOR && !process.argv.includes('--no-color') ? (t) => `\x1b[1m${t}\x1b[0m` : (t) => t;

// The Cartridge steps read the passphrase from the environment (never an argument).
const env = { ...process.env, DISKKIT_PASSPHRASE: 'correct horse battery staple' };

function show(title, args) {
  process.stdout.write(`\n${bold(`# ${title}`)}\n$ diskkit ${args.map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ')}\n`);
}

function step(title, args) {
  show(title, args);
  try {
    execFileSync(bin, args, { stdio: 'inherit', cwd: work, env });
  } catch (error) {
    process.stderr.write(`demo: step failed (exit ${error.status}); files are in ${work}\n`);
    process.exit(1);
  }
}

/** A step that must fail (its error message is part of the demo). */
function refusedStep(title, args) {
  show(title, args);
  const r = spawnSync(bin, args, { stdio: 'inherit', cwd: work, env });
  if (r.status === 0) {
    process.stderr.write(`demo: this step should have been refused; files are in ${work}\n`);
    process.exit(1);
  }
  process.stdout.write(`(exit ${r.status})\n`);
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
// Cartridge: diskkit's own single-file image, checksummed, compressed, encrypted.
const cart = join(work, 'firmware.cart');
step('the same tree into an encrypted, zstd-compressed Cartridge (passphrase from DISKKIT_PASSPHRASE)', ['mkfs', cart, '--type', 'cartridge', '--compress', 'zstd', '--encrypt', '--from', tree]);
step('snapshot it (constant time: the current root is pinned)', ['snapshot', 'create', cart, 'v1']);
const update = join(work, 'device.json');
writeFileSync(update, JSON.stringify({ id: 'demo-01', baud: 921600 }, null, 2) + '\n');
step('change a file after the snapshot', ['cp', update, `${cart}:/config/device.json`]);
step('the current file', ['cat', `${cart}:/config/device.json`]);
step('the file as it was in snapshot v1', ['cat', `${cart}@v1:/config/device.json`]);
step('list the snapshots', ['snapshot', 'list', cart]);
step('check every page checksum and GCM tag', ['fsck', cart]);
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const keyFile = join(work, 'seal.pem');
const pubFile = join(work, 'seal.pub');
writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
writeFileSync(pubFile, publicKey.export({ type: 'spki', format: 'pem' }));
const sealed = join(work, 'firmware.sealed.cart');
step('seal it: a compacted, read-only copy whose root is signed with Ed25519', ['seal', cart, '--key', keyFile, '--out', sealed]);
step('verify the signature, then every page and extent', ['verify', sealed, '--pub', pubFile]);
const back = join(work, 'rootfs-back');
step('copy the tree back out of the sealed image', ['cp', '-r', `${sealed}:/`, back]);
// The round trip: every file as it went in, but the one changed after the snapshot.
const changed = [];
const compare = (rel) => {
  for (const name of readdirSync(join(tree, rel))) {
    const path = join(rel, name);
    if (statSync(join(tree, path)).isDirectory()) compare(path);
    else if (!readFileSync(join(tree, path)).equals(readFileSync(join(back, path)))) changed.push(path);
  }
};
compare('.');
process.stdout.write(`round trip: ${changed.length === 1 && changed[0] === join('config', 'device.json') ? 'every file came back as it went in, but config/device.json (changed after the snapshot)' : `UNEXPECTED differences: ${changed.join(', ')}`}\n`);
if (!(changed.length === 1 && changed[0] === join('config', 'device.json'))) process.exitCode = 1;
refusedStep('a sealed image refuses writes', ['rm', `${sealed}:/logs/boot-000.log`]);
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
