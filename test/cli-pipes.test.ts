import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { BIN } from './helpers/cli.js';

const FAT12 = fileURLToPath(new URL('../fixtures/fat12.img', import.meta.url));
const MFT = fileURLToPath(new URL('../fixtures/ntfs/small.mft', import.meta.url));

/** Runs `diskkit ARGS | head -c 1` and returns diskkit's own exit status and stderr. */
async function intoClosedPipe(args: string[]): Promise<{ status: number; stderr: string }> {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = await execa('bash', ['-c', `node '${BIN}' ${quoted} 2>"$ERRFILE" | head -c 1 >/dev/null; s=\${PIPESTATUS[0]}; cat "$ERRFILE"; exit $s`], {
    reject: false,
    env: { ERRFILE: `/tmp/diskkit-pipe-${process.pid}-${Math.random().toString(36).slice(2)}` },
  });
  return { status: r.exitCode ?? -1, stderr: r.stdout };
}

describe('output into a pipe whose reader goes away (| head)', () => {
  it.each([
    ['ls -R --json', ['--json', 'ls', '-R', '-a', FAT12]],
    ['ls -lR', ['ls', '-lR', FAT12]],
    ['mft index jsonl', ['mft', 'index', MFT]],
  ])('%s stops quietly with exit 0 and no stack trace', async (_name, args) => {
    const r = await intoClosedPipe(args);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
