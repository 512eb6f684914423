/**
 * `diskkit attrib IMAGE:/PATH... [+r|-r] [+a|-a] [+s|-s] [+h|-h] [-/]`: shows or
 * changes DOS attributes, as mattrib does. Without changes each path is listed in
 * mattrib's columns (A, then S H R); with changes nothing is printed. A directory
 * path names the directory itself; `-/` (or --recursive) also takes everything
 * below it. `-h`, `-r`, `-a`, `-s` are attribute changes here, not options, so help
 * is only `--help`. `-X` prints mattrib's concise form (the letters, then the path);
 * `-p` prints one `diskkit attrib` command per entry that restores its attributes
 * (every bit spelled out, + or -, so replaying it also clears what was not set).
 */
import type { Command } from 'commander';
import type { EntryInfo, Volume } from '../engine/volume.js';
import { escapeName, globalOptions, parseImageRef, printJson, reportError, runAction, usageError } from './context.js';
import { unsupportedError } from '../engine/formats.js';
import { ExitCode } from './exit-codes.js';

const LETTERS: Record<string, string> = { r: 'readonly', a: 'archive', s: 'system', h: 'hidden' };

interface AttribRequest {
  paths: string[];
  set: string[];
  clear: string[];
  recursive: boolean;
  output: 'columns' | 'concise' | 'replay';
}

/** Splits the raw arguments into paths, attribute changes (+r, -h, +rh) and -/. */
export function parseAttribArgs(args: readonly string[], recursiveFlag: boolean, output: AttribRequest['output'] = 'columns'): AttribRequest {
  const request: AttribRequest = { paths: [], set: [], clear: [], recursive: recursiveFlag, output };
  for (const arg of args) {
    if (arg === '-/') request.recursive = true;
    else if (arg === '-X') request.output = 'concise';
    else if (arg === '-p') request.output = 'replay';
    else if (/^[+-][a-z]+$/i.test(arg) && !arg.includes(':')) {
      for (const letter of arg.slice(1).toLowerCase()) {
        const name = LETTERS[letter];
        if (!name) throw usageError(`unknown attribute '${letter}' in '${arg}' (attrib takes +r -r +a -a +s -s +h -h, -/ to recurse)`);
        const [add, drop] = arg[0] === '+' ? [request.set, request.clear] : [request.clear, request.set];
        if (drop.includes(name)) throw usageError(`attribute ${letter} is both set and cleared`);
        if (!add.includes(name)) add.push(name);
      }
    } else request.paths.push(arg);
  }
  return request;
}

/** mattrib -X's letters: D for a directory, then A S H R where set, no padding. */
export function attributeLetters(attributes: readonly string[]): string {
  return [['dir', 'D'], ['archive', 'A'], ['system', 'S'], ['hidden', 'H'], ['readonly', 'R']]
    .filter(([name]) => attributes.includes(name!))
    .map(([, letter]) => letter)
    .join('');
}

/** A word the shell passes through as it is (single-quoted unless plainly safe). */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/** The `diskkit attrib` command that gives `path` exactly these attributes. */
export function replayCommand(image: string, path: string, attributes: readonly string[], partition: number | undefined): string {
  const bits = (['a', 's', 'h', 'r'] as const).map((letter) => (attributes.includes(LETTERS[letter]!) ? '+' : '-') + letter);
  const global = partition === undefined ? '' : ` --partition ${partition}`;
  return `diskkit${global} attrib ${shellWord(`${image}:${path}`)} ${bits.join(' ')}`;
}

/** mattrib's columns: A, two spaces, S H R, five spaces. */
export function attributeColumns(attributes: readonly string[]): string {
  const has = (name: string, letter: string): string => (attributes.includes(name) ? letter : ' ');
  return `  ${has('archive', 'A')}  ${has('system', 'S')}${has('hidden', 'H')}${has('readonly', 'R')}     `;
}

export function define(program: Command): void {
  program
    .command('attrib')
    .description('show or change DOS attributes (read-only, archive, system, hidden), as mattrib')
    .argument('<args...>', 'IMAGE:/PATH... and changes: +r -r +a -a +s -s +h -h (-/ recurses into directories)')
    .option('--recursive', 'also every entry below a directory (same as -/)')
    .option('--concise', "mattrib -X's output: the letters (D A S H R), a space, the path (same as -X)")
    .option('--replay', 'print a diskkit attrib command per entry that restores its attributes (same as -p)')
    .helpOption('--help', 'display help for command')
    .allowUnknownOption()
    .addHelpText('after', '\nExamples:\n  diskkit attrib disk.img:/boot.ini +r +h\n  diskkit attrib disk.img:/docs -/ -a\n  diskkit attrib disk.img:/CONFIG.SYS\n  diskkit attrib -p -/ disk.img:/ > restore-attributes.sh')
    .action((args: string[], opts: { recursive?: boolean; concise?: boolean; replay?: boolean }, command: Command) => {
      const g = globalOptions(command);
      const firstPath = args.find((a) => a.includes(':'));
      const image = firstPath === undefined ? undefined : parseImageRef(firstPath)!.image;
      return runAction(image, async () => {
        if (opts.concise && opts.replay) throw usageError('-X (--concise) and -p (--replay) are two different outputs: give one');
        const request = parseAttribArgs(args, Boolean(opts.recursive), opts.replay ? 'replay' : opts.concise ? 'concise' : 'columns');
        const refs = request.paths.map((p) => parseImageRef(p));
        if (refs.length === 0 || refs.some((r) => !r || !r.explicitPath)) throw usageError('attrib takes IMAGE:/PATH arguments (e.g. disk.img:/boot.ini +r)');
        if (refs.some((r) => r!.image !== image)) throw usageError('attrib works on one image at a time');
        const change = request.set.length + request.clear.length > 0;
        if (change && request.output !== 'columns') throw usageError('-X and -p print attributes; give them without changes (+r, -h, ...)');
        const { openVolume } = await import('../engine/open-volume.js');
        const volume = await openVolume(image!, { partition: g.partition, writable: change });
        const results: { path: string; attributes: string[] }[] = [];
        let failed = false;
        try {
          if (change && !volume.setAttributes) throw unsupportedError(volume.format, 'attrib', 'volumes have no DOS attributes to change');
          for (const ref of refs) {
            try {
              for (const entry of targets(volume, ref!.path, request.recursive)) {
                const after = change && entry.path !== '/' ? volume.setAttributes!(entry.path, { set: request.set, clear: request.clear }) : entry;
                results.push({ path: after.path, attributes: after.attributes.filter((a) => a !== 'dir') });
                if (change || g.json) continue;
                if (request.output === 'columns') process.stdout.write(`${attributeColumns(after.attributes)}${escapeName(after.path)}\n`);
                else if (request.output === 'concise') process.stdout.write(`${attributeLetters(after.attributes)} ${escapeName(after.path)}\n`);
                else if (after.path !== '/') process.stdout.write(`${escapeName(replayCommand(image!, after.path, after.attributes, g.partition))}\n`);
              }
            } catch (error) {
              failed = true;
              reportError(image, error);
            }
          }
          if (change) volume.commit();
        } finally {
          volume.close();
        }
        if (g.json) printJson(results);
        return failed ? ExitCode.ERROR : ExitCode.OK;
      });
    });
}

/** The entry at `path`, then (recursive) everything below it, parents before children. */
function* targets(volume: Volume, path: string, recursive: boolean): Generator<EntryInfo> {
  const top = volume.stat(path);
  yield top;
  if (!recursive || top.type !== 'dir') return;
  // An explicit stack: a hostile image may nest directories very deep (loops are refused by list).
  const stack: (string | EntryInfo)[] = [top.path];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    const children = volume.list(dir);
    for (const child of children) yield child;
    for (let i = children.length - 1; i >= 0; i--) if (children[i]!.type === 'dir') stack.push(children[i]!);
  }
}
