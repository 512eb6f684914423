import { describe, it, expect } from 'vitest';
import { Command } from 'commander';
import { addIoOptions, parseByteSize, scanOptionsFrom } from '../../src/commands/io-options.js';

function parse(args: string[], allowAll = false) {
  const cmd = addIoOptions(new Command('t').exitOverride().configureOutput({ writeErr: () => {} }), { allowAll });
  cmd.parse(args, { from: 'user' });
  return cmd.opts();
}

describe('read-mode options', () => {
  it('parses byte sizes with K/M/G suffixes as powers of 1024', () => {
    expect(parseByteSize('4096')).toBe(4096);
    expect(parseByteSize('64K')).toBe(65536);
    expect(parseByteSize('1M')).toBe(1048576);
    expect(parseByteSize('2MiB')).toBe(2097152);
    for (const bad of ['', '1.5M', '-1', '0', '1T', '512M', 'K']) expect(() => parseByteSize(bad), bad).toThrow();
  });

  it('turns the flags into ScanOptions', () => {
    expect(scanOptionsFrom(parse(['--mode', 'pipelined', '--chunk-size', '128K', '--depth', '8', '--workers', '3']))).toEqual({ mode: 'pipelined', chunkSize: 131072, depth: 8, workers: 3 });
    expect(scanOptionsFrom(parse([]))).toEqual({});
  });

  it("accepts 'all' only where allowed (bench)", () => {
    expect(parse(['--mode', 'all'], true).mode).toBe('all');
    expect(() => parse(['--mode', 'all'])).toThrow(/expected one of/);
    expect(() => parse(['--depth', '0'])).toThrow();
    expect(() => parse(['--workers', '1.5'])).toThrow();
  });
});

describe('progress bars', () => {
  it('are wanted only on a terminal and never under --quiet or --json', async () => {
    const { progressWanted } = await import('../../src/commands/progress.js');
    const tty = { isTTY: true } as NodeJS.WriteStream;
    const pipe = { isTTY: false } as NodeJS.WriteStream;
    expect(progressWanted({ quiet: false, json: false }, tty)).toBe(true);
    expect(progressWanted({ quiet: true, json: false }, tty)).toBe(false);
    expect(progressWanted({ quiet: false, json: true }, tty)).toBe(false);
    expect(progressWanted({ quiet: false, json: false }, pipe)).toBe(false);
  });
});
