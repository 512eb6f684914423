/**
 * `diskkit attrib IMAGE:/PATH... [+r|-r] [+a|-a] [+s|-s] [+h|-h] [-/]`: shows or
 * changes DOS attributes, as mattrib does. Without changes each path is listed in
 * mattrib's columns (A, then S H R); with changes nothing is printed. A directory
 * path names the directory itself; `-/` (or --recursive) also takes everything
 * below it. `-h`, `-r`, `-a`, `-s` are attribute changes here, not options, so help
 * is only `--help`.
 */
import type { Command } from 'commander';
import type { EntryInfo, Volume } from '../engine/volume.js';
import { escapeName, globalOptions, parseImageRef, printJson, reportError, runAction, usageError } from './context.js';
import { ExitCode } from './exit-codes.js';

const LETTERS: Record<string, string> = { r: 'readonly', a: 'archive', s: 'system', h: 'hidden' };

interface AttribRequest {
  paths: string[];
  set: string[];
  clear: string[];
  recursive: boolean;
}

/** Splits the raw arguments into paths, attribute changes (+r, -h, +rh) and -/. */
export function parseAttribArgs(args: readonly string[], recursiveFlag: boolean): AttribRequest {
  const request: AttribRequest = { paths: [], set: [], clear: [], recursive: recursiveFlag };
  for (const arg of args) {
    if (arg === '-/') request.recursive = true;
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
    .helpOption('--help', 'display help for command')
    .allowUnknownOption()
    .addHelpText('after', '\nExamples:\n  diskkit attrib disk.img:/boot.ini +r +h\n  diskkit attrib disk.img:/docs -/ -a\n  diskkit attrib disk.img:/CONFIG.SYS')
    .action((args: string[], opts: { recursive?: boolean }, command: Command) => {
      const g = globalOptions(command);
      const firstPath = args.find((a) => a.includes(':'));
      const image = firstPath === undefined ? undefined : parseImageRef(firstPath)!.image;
      return runAction(image, async () => {
        const request = parseAttribArgs(args, Boolean(opts.recursive));
        const refs = request.paths.map((p) => parseImageRef(p));
        if (refs.length === 0 || refs.some((r) => !r || !r.explicitPath)) throw usageError('attrib takes IMAGE:/PATH arguments (e.g. disk.img:/boot.ini +r)');
        if (refs.some((r) => r!.image !== image)) throw usageError('attrib works on one image at a time');
        const change = request.set.length + request.clear.length > 0;
        const { openVolume } = await import('../engine/open-volume.js');
        const volume = await openVolume(image!, { partition: g.partition, writable: change });
        const results: { path: string; attributes: string[] }[] = [];
        let failed = false;
        try {
          if (change && !volume.setAttributes) throw usageError(`${volume.format} volumes have no DOS attributes`);
          for (const ref of refs) {
            try {
              for (const entry of targets(volume, ref!.path, request.recursive)) {
                const after = change && entry.path !== '/' ? volume.setAttributes!(entry.path, { set: request.set, clear: request.clear }) : entry;
                results.push({ path: after.path, attributes: after.attributes.filter((a) => a !== 'dir') });
                if (!change && !g.json) process.stdout.write(`${attributeColumns(after.attributes)}${escapeName(after.path)}\n`);
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
