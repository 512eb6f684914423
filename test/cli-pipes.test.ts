/**
 * `diskkit ... | head -c 1`: the reader goes away after one byte, so a command whose
 * output exceeds the pipe buffer (64 KiB on Linux) must meet EPIPE, and must stop
 * quietly. Each command's full output is measured first, to prove it is big enough
 * for EPIPE to happen at all. The FAT image has 65,534 entries in one directory
 * (raw writes on an mkfs.fat image, test/helpers/hostile-fat.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN } from './helpers/cli.js';
import { writeFindingFlood } from './helpers/hostile-fat.js';
import { requireTools } from './helpers/oracle.js';

const MFT = fileURLToPath(new URL('../fixtures/ntfs/small.mft', import.meta.url));
const PIPE_BUFFER = 64 * 1024;
const tools = requireTools('mkfs.fat');
let dir = '';
let FAT = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'diskkit-pipes-'));
  FAT = join(dir, 'many.img');
  if (tools) writeFindingFlood(FAT, 1, 4096);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `diskkit ARGS | head -c 1` and returns diskkit's own exit status and stderr. */
async function intoClosedPipe(args: string[]): Promise<{ status: number; stderr: string }> {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = await execa('bash', ['-c', `node '${BIN}' ${quoted} 2>"$ERRFILE" | head -c 1 >/dev/null; s=\${PIPESTATUS[0]}; cat "$ERRFILE"; exit $s`], {
    reject: false,
    // Inside the test directory, which afterAll removes (it was left in /tmp after every run).
    env: { ERRFILE: join(dir, `stderr-${Math.random().toString(36).slice(2)}`) },
  });
  return { status: r.exitCode ?? -1, stderr: r.stdout };
}

describe.runIf(tools)('output into a pipe whose reader goes away (| head)', () => {
  it.each([
    ['ls -R --json', () => ['--json', 'ls', '-R', '-a', FAT]],
    ['ls -lR', () => ['ls', '-lR', FAT]],
    ['mft index jsonl', () => ['mft', 'index', '--deleted', '--streams', MFT]],
  ])('%s stops quietly with exit 0 and no stack trace', async (_name, argsOf) => {
    const args = argsOf();
    const full = await execa('node', [BIN, ...args], { reject: false, encoding: 'buffer', maxBuffer: 1 << 28 });
    expect(full.stdout.length).toBeGreaterThan(2 * PIPE_BUFFER);
    const r = await intoClosedPipe(args);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
