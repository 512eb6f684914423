import { describe, it, expect } from 'vitest';
import { Writable } from 'node:stream';
import { startBenchView } from '../../src/commands/bench-view.js';
import { formatBenchReport } from '../../src/commands/bench-table.js';
import { runBench } from '../../src/engine/bench/run-bench.js';
import { MemoryBlockSource } from '../../src/io/block-source.js';

/** A terminal-like stream that records what ink writes. */
function fakeTty() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  }) as Writable & { isTTY: boolean; columns: number; rows: number };
  stream.isTTY = true;
  stream.columns = 160;
  stream.rows = 40;
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
}

describe('bench live view', () => {
  it('renders progress and rows as events arrive, and ends with the plain report', async () => {
    const source = new MemoryBlockSource(new Uint8Array(2 << 20).fill(7), 'mem.bin');
    const tty = fakeTty();
    const view = await startBenchView(tty.stream);
    const report = await runBench({ path: 'mem.bin', format: 'raw', source, volume: null, note: 'memory', openWritable: null, close: () => {} }, { modes: ['streaming', 'pipelined'], runs: 1, seconds: 0.1, hash: 'crc32', dropCache: false, onEvent: view.onEvent });
    await view.finish(report);
    const out = tty.text();
    expect(out).toContain('streaming');
    expect(out).toContain('pipelined');
    expect(out).toContain(formatBenchReport(report).split('\n')[0]!);
  });
});
