/**
 * Shell completion and the man page are generated from the command tree; here they
 * are checked against what `--help` prints (parsed independently of the generator),
 * the bash script is run in bash, and the committed man page must be the one
 * scripts/make-man.js makes now and render without groff warnings.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { diskkit } from './helpers/cli.js';
import { hasTool, requireTools } from './helpers/oracle.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Command names from `diskkit --help`'s Commands section. */
async function commandNames(args: string[] = []): Promise<string[]> {
  const help = (await diskkit([...args, '--help'])).stdout;
  const section = help.slice(help.indexOf('Commands:'));
  return [...section.matchAll(/^ {2}(\w+)/gm)].map((m) => m[1]!).filter((n) => n !== 'help');
}

/** Every -x and --long flag `--help` shows for a command. */
async function helpFlags(args: string[]): Promise<string[]> {
  const help = (await diskkit([...args, '--help'])).stdout;
  const section = help.slice(help.indexOf('Options:'), help.indexOf('Commands:') > 0 ? help.indexOf('Commands:') : undefined);
  return [...section.matchAll(/^ {2}(-\S+?)(?:,? (--[\w-]+))?[ ,<\[]/gm)].flatMap((m) => [m[1]!.replace(/,$/, ''), m[2]].filter((f): f is string => Boolean(f)));
}

describe('diskkit completion', () => {
  it('bash, zsh and fish scripts name every command and every option --help shows', async () => {
    const commands = await commandNames();
    expect(commands).toEqual(expect.arrayContaining(['ls', 'cp', 'mkfs', 'fsck', 'mft', 'attrib', 'label', 'du', 'chain', 'completion']));
    const scripts = Object.fromEntries(await Promise.all(['bash', 'zsh', 'fish'].map(async (s) => [s, (await diskkit(['completion', s])).stdout] as const)));
    const targets: string[][] = [];
    for (const c of commands) {
      if (c === 'mft') for (const s of await commandNames(['mft'])) targets.push(['mft', s]);
      else targets.push([c]);
    }
    for (const target of targets) {
      const flags = await helpFlags(target);
      expect(flags.length, target.join(' ')).toBeGreaterThan(0);
      const bashLine = scripts.bash!.split('\n').find((l) => l.trimStart().startsWith(`${target[0]}/${target[1] ?? '*'})`))!;
      expect(bashLine, target.join(' ')).toBeDefined();
      for (const f of flags) {
        expect(bashLine.split(/[' ]/), `${target.join(' ')} ${f} (bash)`).toContain(f);
        const zshLines = scripts.zsh!.split('\n').filter((l) => l.includes(`${target[target.length - 1]}) _arguments`));
        expect(zshLines.some((l) => l.includes(f)), `${target.join(' ')} ${f} (zsh)`).toBe(true);
        const fishFlag = f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`;
        const fishLines = scripts.fish!.split('\n').filter((l) => [target[target.length - 1], target[0]].some((name) => new RegExp(`__fish_seen_subcommand_from ${name}[';]`).test(l)));
        expect(fishLines.some((l) => l.includes(fishFlag)), `${target.join(' ')} ${f} (fish)`).toBe(true);
      }
    }
  });

  it.runIf(hasTool('bash'))('the bash script completes commands, mft subcommands and options in bash', async () => {
    const script = (await diskkit(['completion', 'bash'])).stdout;
    const complete = (words: string[]): string[] => {
      const cmd = `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _diskkit; printf '%s\\n' "\${COMPREPLY[@]}"`;
      return execFileSync('bash', ['-c', cmd], { encoding: 'utf8' }).split('\n').filter(Boolean);
    };
    expect(complete(['diskkit', 'at'])).toEqual(['attrib']);
    expect(complete(['diskkit', '--partition', '2', 'ls', '--w'])).toEqual(['--wide']);
    expect(complete(['diskkit', 'mft', 'i'])).toEqual(['index']);
    expect(complete(['diskkit', 'mft', 'index', '--offset-'])).toEqual(['--offset-bytes']);
    expect(complete(['diskkit', 'fsck', '-V'])).toEqual(['-V']);
    expect((await diskkit(['completion', 'tcsh'])).exitCode).toBe(2);
  });
});

describe.runIf(requireTools('zsh', 'fish'))('zsh and fish scripts run in zsh and fish', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dk-completion-'));
  let fishScript = '';
  beforeAll(async () => {
    writeFileSync(join(dir, '_diskkit'), (await diskkit(['completion', 'zsh'])).stdout);
    fishScript = join(dir, 'diskkit.fish');
    writeFileSync(fishScript, (await diskkit(['completion', 'fish'])).stdout);
  });
  /** What zsh offers for `line` (through its completion system in a pty). */
  const zsh = (line: string): string[] =>
    [...execFileSync('zsh', [fileURLToPath(new URL('./helpers/zsh-capture.zsh', import.meta.url)), dir, line], { encoding: 'utf8', timeout: 30_000 }).matchAll(/<<([^>]*)>>/g)].map((m) => m[1]!).sort();
  /** What fish offers for `line` (complete -C), without the descriptions. */
  const fish = (line: string): string[] =>
    execFileSync('fish', ['--no-config', '-c', `source ${fishScript}; complete -C ${JSON.stringify(line)}`], { encoding: 'utf8' }).split('\n').filter(Boolean).map((l) => l.split('\t')[0]!).sort();

  it('complete every command name, and each command\'s long options as --help lists them', async () => {
    const commands = (await commandNames()).sort();
    expect(zsh('diskkit ')).toEqual(expect.arrayContaining(commands));
    expect(fish('diskkit ').filter((c) => !c.startsWith('-'))).toEqual(expect.arrayContaining(commands));
    const targets: string[][] = [];
    for (const c of commands) {
      if (c === 'mft') for (const sub of await commandNames(['mft'])) targets.push(['mft', sub]);
      else targets.push([c]);
    }
    for (const target of targets) {
      const long = (await helpFlags(target)).filter((f) => f.startsWith('--')).sort();
      const line = `diskkit ${target.join(' ')} --`;
      expect(zsh(line), `zsh: ${line}`).toEqual(long);
      expect(fish(line), `fish: ${line}`).toEqual(long);
    }
    expect(zsh('diskkit mft ')).toEqual((await commandNames(['mft'])).sort());
    expect(zsh('diskkit mft index --st')).toEqual(['--stats', '--streams', '--strict']);
    expect(fish('diskkit mft index --st')).toEqual(['--stats', '--streams', '--strict']);
  }, 300_000);
});

describe('man page', () => {
  it('man/diskkit.1 is what scripts/make-man.js makes from the current --help text', () => {
    const r = spawnSync('node', ['scripts/make-man.js', '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { man: string; files: string[] };
    expect(pkg.man).toBe('./man/diskkit.1');
    expect(pkg.files).toContain('man');
  });

  it.runIf(hasTool('groff'))('renders without groff warnings and documents every command with its usage', async () => {
    const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', `${ROOT}man/diskkit.1`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const text = execFileSync('groff', ['-man', '-Tascii', '-P-c', '-P-b', '-P-u', `${ROOT}man/diskkit.1`], { encoding: 'utf8' }).replace(/-\n\s*/g, '-');
    for (const c of await commandNames()) {
      const usage = /^Usage: (.*)$/m.exec((await diskkit([c, '--help'])).stdout)![1]!;
      expect(text.replace(/\s+/g, ' '), c).toContain(usage.replace(/\s+/g, ' '));
    }
  });
});
