/**
 * The command tree. Each subcommand lives in its own module under src/commands and
 * exports `define(program)`; those modules import only commander types and context,
 * and load the engine inside their action, so start-up stays cheap.
 */
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { ExitCode } from './commands/exit-codes.js';
import { define as defineInfo } from './commands/info.js';
import { define as defineLs } from './commands/ls.js';
import { define as defineCat } from './commands/cat.js';
import { define as defineCp } from './commands/cp.js';
import { define as defineMkdir } from './commands/mkdir.js';
import { define as defineRm } from './commands/rm.js';
import { define as defineMv } from './commands/mv.js';
import { define as defineMkfs } from './commands/mkfs.js';
import { define as defineFsck } from './commands/fsck.js';
import { define as defineBench } from './commands/bench.js';
import { define as defineMft } from './commands/mft.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('diskkit')
    .description('Build, read, check and index disk images: FAT12/16/32 and NTFS MFT')
    .version(version(), '-V, --version')
    .option('--json', 'print one JSON document on stdout and nothing else there')
    .option('-q, --quiet', 'no progress bars or warnings')
    .option('--partition <n>', 'use partition N (1-based) of a partitioned disk image', parsePartition)
    .option('--no-color', 'no colours (also NO_COLOR)')
    .showHelpAfterError()
    .exitOverride();
  for (const define of [defineInfo, defineLs, defineCat, defineCp, defineMkdir, defineRm, defineMv, defineMkfs, defineFsck, defineBench, defineMft]) {
    define(program);
  }
  program.commands.forEach((c) => c.exitOverride());
  return program;
}

function parsePartition(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CommanderError(ExitCode.USAGE, 'diskkit.partition', `--partition takes a number from 1 up, not '${value}'`);
  return n;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version are not errors; everything else commander rejects is a usage error
      const benign = error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help';
      process.exitCode = benign ? ExitCode.OK : (program.args[0] === 'fsck' ? 16 : ExitCode.USAGE);
      return;
    }
    throw error;
  }
}
