// Crash-test child: opens the image, continues the workload from its /state, commits
// after every step and reports each commit on stdout, until it is killed.
import { writeSync } from 'node:fs';
import { CartridgeStore } from '../../dist/engine/cartridge/store.js';
import { applyStep, stepContent } from './crash-steps.mjs';

const [path] = process.argv.slice(2);
const store = CartridgeStore.open(path, { writable: true, extentSize: 65536 });
const start = Number(new TextDecoder().decode(await store.readFile('/state')));
const model = new Map();
for (const entry of store.list('/')) if (entry.name !== 'state') model.set(entry.name, -1);
writeSync(1, `ready ${start}\n`);
for (let k = start + 1; ; k++) {
  const op = applyStep(model, k);
  if (op.kind === 'remove') store.remove(`/${op.name}`);
  else await store.writeFile(`/${op.name}`, stepContent(k));
  await store.writeFile('/state', new TextEncoder().encode(String(k)));
  store.commit();
  writeSync(1, `committed ${k}\n`);
}
