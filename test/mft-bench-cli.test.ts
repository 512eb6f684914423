/**
 * `mft bench` spelled as users of `bench` spell it (--mode all), its --stats, and the
 * default read mode said the same way by --help and the README.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { diskkit } from './helpers/cli.js';

const DUMP = fileURLToPath(new URL('../fixtures/ntfs/small.mft', import.meta.url));
const README = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');

describe('mft bench options', () => {
  it('--mode all is --modes all; --mode LIST is --modes LIST', async () => {
    const all = await diskkit(['--json', 'mft', 'bench', DUMP, '--mode', 'all']);
    expect(all.exitCode, all.stderr).toBe(0);
    expect(JSON.parse(all.stdout).modes.map((m: { mode: string }) => m.mode)).toEqual(['streaming', 'prefetch', 'pipelined', 'parallel', 'mmap']);
    const two = await diskkit(['--json', 'mft', 'bench', DUMP, '--mode', 'streaming,prefetch']);
    expect(JSON.parse(two.stdout).modes.map((m: { mode: string }) => m.mode)).toEqual(['streaming', 'prefetch']);
  });

  it('--stats gives each mode its I/O statistics, on stderr and in --json', async () => {
    const json = await diskkit(['--json', 'mft', 'bench', DUMP, '--modes', 'streaming,prefetch', '--stats']);
    expect(json.exitCode, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout);
    for (const m of doc.modes) {
      expect(m.stats.mode).toBe(m.mode);
      expect(m.stats.bytes).toBe(readFileSync(DUMP).length);
    }
    const human = await diskkit(['mft', 'bench', DUMP, '--modes', 'streaming', '--stats']);
    expect(human.stderr).toMatch(/^diskkit: stats: streaming: mode streaming/m);
  });
});

describe('the default read mode', () => {
  it('--help and the README say the same default for each command', async () => {
    const defaults: Record<string, string[]> = { streaming: ['cat', 'cp', 'fsck'], auto: ['bench', 'mft index'] };
    for (const [mode, commands] of Object.entries(defaults)) {
      for (const command of commands) {
        const help = await diskkit([...command.split(' '), '--help']);
        expect(help.stdout.replace(/\s+/g, ' ')).toContain(`(default: ${mode})`);
      }
    }
    expect(README).toContain('(default: streaming for cat, cp and fsck; auto for bench and mft index)');
  });
});
