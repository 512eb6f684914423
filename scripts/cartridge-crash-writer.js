#!/usr/bin/env node
/**
 * The process the Cartridge crash test SIGKILLs: opens IMAGE, continues the workload of
 * cartridge-crash-workload.js from the image's /state, commits after every step and says
 * so on stdout ("committed K"), compacts now and then, until it is killed.
 *   node scripts/cartridge-crash-writer.js IMAGE KILL_AFTER_MS   (DISKKIT_PASSPHRASE for an encrypted image)
 *
 * The SIGKILL comes from a `sleep; kill -KILL` started when the writer is ready: its timing
 * depends on neither this process's event loop (commits are synchronous) nor the test's.
 */
import { spawn } from 'node:child_process';
import { writeSync } from 'node:fs';
import { CartridgeStore, closeCartridgeFile, compactCartridge, openCartridgeFile } from '../dist/engine/cartridge/index.js';
import { applyStep, simulate, stepContent } from './cartridge-crash-workload.js';

const [path, killAfterMs] = process.argv.slice(2);
const passphrase = process.env.DISKKIT_PASSPHRASE || undefined;
const open = () => CartridgeStore.open(path, { writable: true, passphrase, extentSize: 65536 });
let store = open();
const start = Number(new TextDecoder().decode(await store.readFile('/state')));
const state = simulate(start);
writeSync(1, `ready ${start}\n`);
if (killAfterMs !== undefined) {
  const seconds = (Number(killAfterMs) / 1000).toFixed(3);
  spawn('/bin/sh', ['-c', `sleep ${seconds}; kill -KILL ${process.pid}`], { stdio: 'ignore', detached: true }).unref();
}
for (let k = start + 1; ; k++) {
  const { ops, compactAfter } = applyStep(state, k);
  for (const op of ops) {
    if (op.kind === 'snapshot') store.createSnapshot(op.name);
    else if (op.kind === 'restore') store.restoreSnapshot(op.name);
    else if (op.kind === 'drop') store.deleteSnapshot(op.name);
    else if (op.kind === 'remove') store.remove(`/${op.name}`);
    else await store.writeFile(`/${op.name}`, stepContent(k));
  }
  await store.writeFile('/state', new TextEncoder().encode(String(k)));
  store.commit();
  writeSync(1, `committed ${k}\n`);
  if (compactAfter) {
    store.close();
    const file = openCartridgeFile(path, { writable: true, passphrase });
    compactCartridge(file);
    closeCartridgeFile(file);
    writeSync(1, `compacted ${k}\n`);
    store = open();
  }
}
