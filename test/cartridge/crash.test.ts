import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CartridgeStore } from '../../src/engine/cartridge/store.js';
import { checkPageOwnership } from '../../src/engine/cartridge/ownership.js';
import { Compression } from '../../src/engine/cartridge/superblock.js';
import { seededRandom } from '../../src/engine/seeded-random.js';
import { applyStep, stepContent } from './crash-steps.mjs';
import { scratchDir } from './scratch.js';

const nextPath = scratchDir('crash');
const WRITER = fileURLToPath(new URL('./crash-writer.mjs', import.meta.url));
/** Kill instants per compression; CARTRIDGE_CRASH_INSTANTS raises it for a long local run. */
const INSTANTS = Number(process.env.CARTRIDGE_CRASH_INSTANTS ?? 12);

/** Runs the writer and SIGKILLs it `delayMs` after it reports ready; returns the last step it said was committed. */
function runAndKill(path: string, delayMs: number): Promise<{ ready: number; lastCommitted: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (!timer && out.includes('ready')) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited by itself (code ${code}): ${err}`));
      const ready = Number(/ready (\d+)/.exec(out)?.[1] ?? NaN);
      const committed = [...out.matchAll(/committed (\d+)/g)].map((m) => Number(m[1]));
      resolve({ ready, lastCommitted: committed.length ? committed[committed.length - 1]! : null });
    });
  });
}

describe('crash safety (§4): a writer SIGKILLed at seeded instants', () => {
  it.each([
    ['lz4', Compression.LZ4],
    ['zstd', Compression.ZSTD],
  ] as const)('%s: every reopen finds exactly the state of one commit at or after the last one reported', async (_name, compression) => {
    const path = nextPath();
    const created = CartridgeStore.create(path, { compression, extentSize: 65536 });
    await created.writeFile('/state', new TextEncoder().encode('0'));
    created.commit();
    created.close();
    const random = seededRandom(compression * 1000 + 11);
    const model = new Map<string, number>();
    let modelStep = 0;
    let previous = 0;
    let killedMidRun = 0;
    for (let instant = 0; instant < INSTANTS; instant++) {
      const { ready, lastCommitted } = await runAndKill(path, Math.floor(random() * 400));
      expect(ready).toBe(previous);
      const store = CartridgeStore.open(path);
      const state = Number(new TextDecoder().decode(await store.readFile('/state')));
      // Durable: nothing reported committed is lost; atomic: the state is one whole commit.
      expect(state).toBeGreaterThanOrEqual(lastCommitted ?? previous);
      if (state === (lastCommitted ?? previous)) killedMidRun++;
      while (modelStep < state) applyStep(model, ++modelStep);
      const names = store.list('/').map((e) => e.name);
      expect(names).toEqual([...model.keys(), 'state'].sort());
      for (const [name, step] of model) {
        const data = await store.readFile(`/${name}`);
        expect(Buffer.from(data).equals(Buffer.from(stepContent(step)))).toBe(true);
      }
      expect(checkPageOwnership(store.file)).toEqual({ orphans: [], doubleOwned: [], problems: [] });
      store.close();
      previous = state;
    }
    // The kills landed while the workload was moving: commits happened, and some kills
    // came after the last reported commit (mid-transaction).
    expect(previous).toBeGreaterThan(0);
    expect(killedMidRun).toBeGreaterThan(0);
  });
});
