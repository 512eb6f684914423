/**
 * Behaviour on a real terminal, through a pty made by script(1): Ctrl-C typed into
 * the terminal (the line discipline sends SIGINT) during a progress bar must leave the
 * cursor shown and line wrap on, and a pty that reports 0 columns must not make the
 * bench live view print one character per line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN } from './helpers/cli.js';
import { requireTools } from './helpers/oracle.js';

const HAVE = requireTools('script', 'mkfs.fat');
let work = '';
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dk-pty-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs `args` in a pty (script -qfec); types Ctrl-C once `interruptWhen` matches the output so far. */
function inPty(args: string[], interruptWhen: RegExp | null, env: Record<string, string | undefined> = { NO_COLOR: '1' }): Promise<{ code: number | null; output: string }> {
  const quoted = ['node', BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const base = { ...process.env };
  delete base.NO_COLOR;
  delete base.FORCE_COLOR;
  // A user's terminal, not CI: colour detection (supports-color) turns colours off whenever CI is set.
  delete base.CI;
  const child = spawn('script', ['-qfec', quoted, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...base, ...env } as NodeJS.ProcessEnv });
  let output = '';
  let typed = false;
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString('latin1');
    if (interruptWhen && !typed && interruptWhen.test(output)) {
      typed = true;
      child.stdin.write('\x03');
    }
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

/** Whether the last `off` sequence in `output` is followed by its `on` sequence. */
function restored(output: string, off: string, on: string): boolean {
  const last = output.lastIndexOf(off);
  return last < 0 || output.indexOf(on, last) > last;
}

describe('on a terminal', () => {
  it.runIf(HAVE)('Ctrl-C during a copy with a progress bar leaves the cursor shown and line wrap on', async () => {
    const img = join(work, 'big.img');
    execFileSync('mkfs.fat', ['-C', '-F', '32', img, String(600 * 1024)], { stdio: 'ignore' });
    const big = join(work, 'big.bin');
    writeFileSync(big, Buffer.alloc(256 * 1024 * 1024, 0x5a));
    const r = await inPty(['cp', big, `${img}:/`], /copying \[/);
    expect(r.output).toMatch(/copying \[/);
    expect(r.code).toBe(130);
    expect(restored(r.output, '\x1b[?25l', '\x1b[?25h')).toBe(true);
    expect(restored(r.output, '\x1b[?7l', '\x1b[?7h')).toBe(true);
  }, 60_000);

  it.runIf(HAVE)('a pty of 0 columns gets the bench live view at 80 columns, not one character per line', async () => {
    const file = join(work, 'small.bin');
    writeFileSync(file, Buffer.alloc(8 * 1024 * 1024, 7));
    const r = await inPty(['bench', file, '--seconds', '0.2', '--runs', '2'], null);
    expect(r.code).toBe(0);
    const lines = r.output.split(/\r?\n/);
    expect(lines.filter((l) => l.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').trim().length === 1).length).toBeLessThan(3);
    expect(r.output.length).toBeLessThan(30_000);
    expect(r.output).toMatch(/sequential read/);
  }, 60_000);

  it.runIf(HAVE)('NO_COLOR and --no-color leave no colour or dim code in the bench live view (which has them otherwise)', async () => {
    const file = join(work, 'colour.bin');
    // Large enough, and several modes and runs, that the live view draws frames while the bench runs
    // (the dimmed header and table head are in those frames; the last frame is the plain report).
    writeFileSync(file, Buffer.alloc(64 * 1024 * 1024, 9));
    const args = ['bench', file, '--seconds', '0.3', '--runs', '3', '--mode', 'all'];
    // SGR codes other than reset: colours (3x/9x), dim (2), bold (1)
    const styled = /\x1b\[(?:[1-9]|[1-9]\d)(?:;\d+)*m/;
    const plain = await inPty(args, null, {});
    expect(plain.code).toBe(0);
    expect(plain.output).toMatch(styled);
    const noColorEnv = await inPty(args, null, { NO_COLOR: '1' });
    expect(noColorEnv.code).toBe(0);
    expect(noColorEnv.output).toMatch(/sequential read/);
    expect(noColorEnv.output).not.toMatch(styled);
    const noColorFlag = await inPty(['--no-color', ...args], null, {});
    expect(noColorFlag.code).toBe(0);
    expect(noColorFlag.output).not.toMatch(styled);
  }, 90_000);

  it.runIf(HAVE)('Parquet is not written to a terminal: a usage error says to give --out or redirect', async () => {
    const img = join(work, 'pq.img');
    execFileSync('mkfs.fat', ['-C', img, '1440'], { stdio: 'ignore' });
    const ls = await inPty(['ls', '-R', img, '--format', 'parquet'], null);
    expect(ls.code).toBe(2);
    expect(ls.output).toMatch(/--format parquet is binary: give --out FILE or redirect stdout/);
    expect(ls.output).not.toContain('PAR1');
    const mft = await inPty(['mft', 'index', fileURLToPath(new URL('../fixtures/ntfs/small.mft', import.meta.url)), '--format', 'parquet'], null);
    expect(mft.code).toBe(2);
    expect(mft.output).toMatch(/--format parquet is binary/);
    expect(mft.output).not.toContain('PAR1');
  }, 60_000);
});
