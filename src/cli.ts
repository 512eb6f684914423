/**
 * The command tree. Each subcommand lives in its own module under src/commands and
 * exports `define(program)`; those modules import only commander types and context,
 * and load the engine inside their action, so start-up stays cheap.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import { ExitCode, FsckExitCode } from './commands/exit-codes.js';
import { errorDocument, setJsonErrorDocument, setProgramBuilder } from './commands/context.js';
import { exitQuietlyOnClosedStdout } from './quick-start.js';
import { parseByteCount } from './commands/io-options.js';
import { MIN_CACHE_BYTES } from './engine/cache-budget.js';

type Define = (program: Command) => void;

/** Each subcommand's module, loaded only when that command runs (or for help). */
const COMMANDS: Record<string, () => Promise<{ define: Define }>> = {
  info: () => import('./commands/info.js'),
  ls: () => import('./commands/ls.js'),
  cat: () => import('./commands/cat.js'),
  cp: () => import('./commands/cp.js'),
  mkdir: () => import('./commands/mkdir.js'),
  rm: () => import('./commands/rm.js'),
  mv: () => import('./commands/mv.js'),
  mkfs: () => import('./commands/mkfs.js'),
  fsck: () => import('./commands/fsck.js'),
  bench: () => import('./commands/bench.js'),
  mft: () => import('./commands/mft.js'),
  attrib: () => import('./commands/attrib.js'),
  label: () => import('./commands/label.js'),
  du: () => import('./commands/du.js'),
  chain: () => import('./commands/chain.js'),
  snapshot: () => import('./commands/snapshot.js'),
  compact: () => import('./commands/compact.js'),
  seal: () => import('./commands/seal.js'),
  verify: () => import('./commands/verify.js'),
  key: () => import('./commands/key.js'),
  completion: () => import('./commands/completion.js'),
};

/** Global options that take a value, so the command name can be found after them. */
const GLOBAL_OPTIONS_WITH_VALUE = new Set(['--partition', '--key-file', '--cache-size']);

/** The subcommand named in argv (after node and the script), or null for help/unknown. */
function commandName(args: readonly string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (GLOBAL_OPTIONS_WITH_VALUE.has(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith('-')) continue;
    return Object.hasOwn(COMMANDS, arg) ? arg : null;
  }
  return null;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * Builds the command tree. Given argv, only the module of the command being run is
 * loaded (start-up is most of what a scripted call costs); without, all of them.
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const only = argv ? commandName(argv.slice(2)) : null;
  // fsck.fat's -V (verify) belongs to fsck: there the version is only --version.
  const program = new Command('diskkit')
    .description('Build, read, check and index disk images: FAT12/16/32, NTFS (read) and Cartridge images, NTFS MFT dumps')
    .version(version(), only === 'fsck' ? '--version' : '-V, --version')
    .option('--json', 'print one JSON document on stdout and nothing else there')
    .option('-q, --quiet', 'no progress bars or warnings')
    .option('--partition <n>', 'use partition N (1-based) of a partitioned disk image', parsePartition)
    .option('--no-color', 'no colours (also NO_COLOR)')
    .option('--key-file <file>', 'encrypted Cartridge images: read the passphrase from the first line of FILE (else DISKKIT_PASSPHRASE, else a prompt)')
    .option('--cache-size <bytes>', 'memory for a Cartridge image\'s decoded-page and decoded-extent caches, half each (K/M/G; default 128M); hit rates in --stats', parseCacheSize)
    // Commander's own usage errors read `diskkit: …` like every other error line
    // (subcommands inherit this, so it is set before they are defined).
    .configureOutput({ outputError: (text, write) => write(`diskkit: ${text.replace(/^error: /, '')}`) })
    .option('--no-sync', 'writes: skip the fsyncs that make the rollback journal survive a power cut (a killed process is still rolled back)')
    .showHelpAfterError()
    .exitOverride();
  const names = only ? [only] : Object.keys(COMMANDS);
  const modules = await Promise.all(names.map((name) => COMMANDS[name]!()));
  for (const { define } of modules) define(program);
  program.commands.forEach((c) => c.exitOverride());
  // --json: a failing action prints a JSON error document too (context.ts runAction); --no-sync turns the journal's fsyncs off.
  program.hook('preAction', async (_program, action) => {
    const opts = action.optsWithGlobals();
    setJsonErrorDocument(Boolean(opts.json));
    if (opts.sync === false) (await import('./engine/journal/index.js')).setJournalSync(false);
    if (opts.cacheSize !== undefined) (await import('./engine/cache-budget.js')).setCacheBudget(opts.cacheSize as number);
    const [{ setPassphraseProvider }, { commandPassphraseProvider }] = await Promise.all([import('./engine/passphrase.js'), import('./commands/passphrase.js')]);
    setPassphraseProvider(commandPassphraseProvider(opts.keyFile as string | undefined));
  });
  return program;
}

/** MIN_CACHE_BYTES (1M) to 64G. */
function parseCacheSize(value: string): number {
  return parseByteCount(value, MIN_CACHE_BYTES, 64 * 1024 ** 3, '1M', '64G');
}

function parsePartition(value: string): number {
  const n = Number(value);
  // InvalidArgumentError: commander prints it (as `diskkit: option … is invalid`) before exiting.
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`--partition takes a number from 1 up, not '${value}'`);
  return n;
}

/**
 * TEST ONLY: DISKKIT_EXTRA_FORMAT_MODULE names a module loaded before the command runs,
 * so a test can register a throwaway format (registerFormat from dist/engine/formats.js)
 * and drive the real commands against it. Not a plug-in interface: nothing else uses it.
 */
async function loadExtraFormat(): Promise<void> {
  const module = process.env.DISKKIT_EXTRA_FORMAT_MODULE;
  if (!module) return;
  const [{ pathToFileURL }, { resolve }] = await Promise.all([import('node:url'), import('node:path')]);
  await import(pathToFileURL(resolve(module)).href);
}

export async function main(argv: string[]): Promise<void> {
  exitQuietlyOnClosedStdout();
  await loadExtraFormat();
  setProgramBuilder(() => buildProgram());
  const program = await buildProgram(argv);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version are not errors; everything else commander rejects is a usage error
      const benign = error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help';
      // fsck keeps fsck(8)'s usage code; the command is found in argv, since a failed
      // parse (a bad global option) may stop before commander records it
      process.exitCode = benign ? ExitCode.OK : commandName(argv.slice(2)) === 'fsck' ? FsckExitCode.USAGE : ExitCode.USAGE;
      // A usage error under --json still gives the script its one document on stdout.
      if (!benign && argv.includes('--json')) {
        const { DiskkitError, ErrorCode } = await import('./engine/errors.js');
        const message = error.message.replace(/^error: /, '');
        process.stdout.write(JSON.stringify(errorDocument(undefined, new DiskkitError(ErrorCode.USAGE, message), process.exitCode), null, 2) + '\n');
      }
      return;
    }
    throw error;
  }
}
