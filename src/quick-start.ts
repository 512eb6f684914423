/**
 * The most common scripted calls, `diskkit [--json] [-q] ls [-l] [-a] [-R] IMAGE[:PATH]`,
 * `diskkit [--json] [-q] info IMAGE`, `diskkit [--json] [-q] fsck IMAGE`, and (whose own work
 * is often shorter than the start-up) `compact IMAGE`, `cp [-r] SRC... DEST`,
 * `cat IMAGE:/PATH` and `mkfs IMAGE [BLOCKS]` with value options (MKFS_FLAGS), run without
 * building the command tree: commander and every command's option table
 * cost about as much as the listing itself (start-up is most of what such a call
 * costs). Anything else — another command, another option, help, a usage error, an
 * argument starting with '-' — returns false and goes through cli.ts as usual, so
 * behaviour and messages stay commander's. Both paths run the same action (runLs, runInfo, runFsck, runCompact, runCp, runCat, runMkfs).
 */
import type { LsOptions } from './commands/ls.js';
import type { MkfsFlags } from './commands/mkfs.js';
import { ExitCode } from './commands/exit-codes.js';

/**
 * The commands a bundle of this module runs (scripts/bundle-quick-start.js defines it per
 * bundle, each holding only its commands' code); unbundled, all of them.
 */
declare const DISKKIT_QUICK_COMMANDS: readonly string[] | undefined;
const QUICK_COMMANDS: readonly string[] = typeof DISKKIT_QUICK_COMMANDS === 'undefined' ? ['ls', 'info', 'fsck', 'compact', 'cp', 'cat', 'mkfs'] : DISKKIT_QUICK_COMMANDS;

const GLOBAL_FLAGS: Record<string, 'json' | 'quiet' | 'noColor' | 'noSync'> = { '--json': 'json', '-q': 'quiet', '--quiet': 'quiet', '--no-color': 'noColor', '--no-sync': 'noSync' };
const LS_FLAGS: Record<string, keyof LsOptions> = { '-l': 'long', '--long': 'long', '-a': 'all', '--all': 'all', '-R': 'recursive', '--recursive': 'recursive' };
/**
 * The mkfs options a quick `mkfs` takes (those that only set a value; --from, --encrypt
 * and the rest go through cli.ts): the option's word, the MkfsFlags key, and whether it
 * takes the next argument as its value.
 */
const MKFS_FLAGS: Record<string, [keyof MkfsFlags, boolean]> = {
  '--size': ['size', true],
  '--type': ['type', true],
  '--cluster-size': ['clusterSize', true],
  '--sector-size': ['sectorSize', true],
  '--fats': ['fats', true],
  '-n': ['label', true],
  '--label': ['label', true],
  '--volume-id': ['volumeId', true],
  '-r': ['rootEntries', true],
  '--root-entries': ['rootEntries', true],
  '-F': ['F', true],
  '-s': ['s', true],
  '-S': ['S', true],
  '-i': ['i', true],
  '--compress': ['compress', true],
  '--checksum': ['checksum', true],
  '--force': ['force', false],
  '--invariant': ['invariant', false],
  '-C': ['C', false],
};

/** Runs `args` (argv without node and the script) when it is a plain `ls`, `info`, `fsck`, `compact`, `cp`, `cat` or `mkfs`; false when it is not. */
export async function runQuickly(args: readonly string[]): Promise<boolean> {
  // The test-only format hook is loaded by cli.ts.
  if (process.env.DISKKIT_EXTRA_FORMAT_MODULE) return false;
  const globals = { json: false, quiet: false, noColor: false, noSync: false };
  const opts: LsOptions = {};
  let i = 0;
  for (; i < args.length && Object.hasOwn(GLOBAL_FLAGS, args[i]!); i++) globals[GLOBAL_FLAGS[args[i]!]!] = true;
  const command = args[i];
  if (command === undefined || !QUICK_COMMANDS.includes(command)) return false;
  const targets: string[] = [];
  let recursive = false;
  const mkfsFlags: Record<string, string | boolean> = {};
  for (i++; i < args.length; i++) {
    const arg = args[i]!;
    if (command === 'ls' && Object.hasOwn(LS_FLAGS, arg)) (opts as Record<string, boolean>)[LS_FLAGS[arg]!] = true;
    else if (command === 'mkfs' && Object.hasOwn(MKFS_FLAGS, arg)) {
      const [key, takesValue] = MKFS_FLAGS[arg]!;
      // A value that looks like an option, a missing one or a repeated option: commander's messages.
      if (Object.hasOwn(mkfsFlags, key)) return false;
      if (!takesValue) mkfsFlags[key] = true;
      else if (i + 1 < args.length && !args[i + 1]!.startsWith('-')) mkfsFlags[key] = args[++i]!;
      else return false;
    }
    else if (command === 'cp' && (arg === '-r' || arg === '--recursive')) recursive = true;
    else if (Object.hasOwn(GLOBAL_FLAGS, arg)) globals[GLOBAL_FLAGS[arg]!] = true;
    else if (arg.startsWith('-') || arg === '') return false;
    else targets.push(arg);
  }
  // cp: SRC... DEST; mkfs: IMAGE [BLOCKS]; the others: one IMAGE[:PATH].
  if (command === 'cp' ? targets.length < 2 : command === 'mkfs' ? targets.length < 1 || targets.length > 2 : targets.length !== 1) return false;
  const target = targets[0]!;
  exitQuietlyOnClosedStdout();
  const [{ runLs }, { runInfo }, { runFsck }, { runCompact }, { runCp }, { runCat }, { runMkfs }, { setJsonErrorDocument }, { setPassphraseProvider }, { commandPassphraseProvider }] = await Promise.all([
    command === 'ls' ? import('./commands/ls.js') : { runLs: null },
    command === 'info' ? import('./commands/info.js') : { runInfo: null },
    command === 'fsck' ? import('./commands/fsck.js') : { runFsck: null },
    command === 'compact' ? import('./commands/compact.js') : { runCompact: null },
    command === 'cp' ? import('./commands/cp.js') : { runCp: null },
    command === 'cat' ? import('./commands/cat.js') : { runCat: null },
    command === 'mkfs' ? import('./commands/mkfs.js') : { runMkfs: null },
    import('./commands/context.js'),
    import('./engine/passphrase.js'),
    import('./commands/passphrase.js'),
  ]);
  // What cli.ts's preAction hook does for every command (no --key-file on this path: DISKKIT_PASSPHRASE or a prompt).
  setJsonErrorDocument(globals.json);
  setPassphraseProvider(commandPassphraseProvider(undefined));
  // (`diskkit --no-sync cp ...` used to fall through to cli.js after loading this bundle: both start-ups.)
  if (globals.noSync) (await import('./engine/journal/index.js')).setJournalSync(false);
  const g = { json: globals.json, quiet: globals.quiet, color: !globals.noColor && !process.env.NO_COLOR, partition: undefined, verbose: false };
  if (runLs) await runLs(target, opts, g);
  else if (runInfo) await runInfo(target, g);
  else if (runCompact) await runCompact(target, {}, g);
  // commander's defaults for the options a plain cp leaves out (--on-clash fail; --no-clobber not given).
  else if (runCp) await runCp(targets, { recursive, clobber: true, onClash: 'fail' }, g);
  else if (runCat) await runCat(target, {}, g);
  else if (runMkfs) await runMkfs(target, targets[1], mkfsFlags as MkfsFlags, g);
  else await runFsck!(target, {}, g);
  return true;
}

/**
 * `diskkit ls IMG | head`: when the reader of stdout goes away, stop quietly, as
 * cat(1) does on SIGPIPE (Node ignores the signal and reports EPIPE instead).
 *
 * The listener is attached when something first asks for `process.stdout`, not now:
 * creating the stream loads Node's whole stream stack (a tenth of a plain `ls`'s
 * start-up), and ls and cat write to fd 1 directly without it (their EPIPE arrives
 * as a thrown error, which runAction turns into a quiet exit).
 */
export function exitQuietlyOnClosedStdout(): void {
  const onError = (error: NodeJS.ErrnoException): void => {
    if (error.code === 'EPIPE') process.exit(ExitCode.OK);
    throw error;
  };
  const original = Object.getOwnPropertyDescriptor(process, 'stdout');
  if (!original?.get || !original.configurable) {
    process.stdout.on('error', onError);
    return;
  }
  Object.defineProperty(process, 'stdout', {
    configurable: true,
    enumerable: original.enumerable,
    get() {
      Object.defineProperty(process, 'stdout', original);
      const stdout = process.stdout;
      stdout.on('error', onError);
      return stdout;
    },
  });
}
