/**
 * The command tree as data, read from commander (names, descriptions, arguments,
 * options, help text): shell completion (completion.ts) and the man page
 * (scripts/make-man.js) are both generated from it, so neither can drift from --help.
 */
import type { Command } from 'commander';

export interface OptionModel {
  /** '-l' or undefined. */
  short: string | undefined;
  /** '--long' or undefined. */
  long: string | undefined;
  /** As --help shows it: '-l, --long', '--out <file>'. */
  flags: string;
  description: string;
  /** Whether a value follows (`<x>` or `[x]`). */
  takesValue: boolean;
}

export interface ArgumentModel {
  name: string;
  description: string;
  required: boolean;
  variadic: boolean;
}

export interface CommandModel {
  name: string;
  description: string;
  /** `[options] <image> [new]` as --help's usage line shows it. */
  usage: string;
  arguments: ArgumentModel[];
  options: OptionModel[];
  subcommands: CommandModel[];
  /** The full --help text, including examples added after it. */
  help: string;
}

/** The help text commander prints for `command --help`, captured instead of printed. */
function helpText(command: Command): string {
  let text = '';
  const saved = command.configureOutput();
  command.configureOutput({ ...saved, writeOut: (s: string) => void (text += s), getOutHelpWidth: () => 100 });
  try {
    command.outputHelp();
  } finally {
    command.configureOutput(saved);
  }
  return text;
}

export function commandModel(command: Command): CommandModel {
  const options: OptionModel[] = command.options.map((o) => ({
    short: o.short,
    long: o.long,
    flags: o.flags,
    description: o.description,
    takesValue: o.required || o.optional,
  }));
  // commander adds help as an option of its own, outside `options`.
  options.push({ short: command.name() === 'attrib' ? undefined : '-h', long: '--help', flags: command.name() === 'attrib' ? '--help' : '-h, --help', description: 'display help for command', takesValue: false });
  return {
    name: command.name(),
    description: command.description(),
    usage: command.usage(),
    arguments: command.registeredArguments.map((a) => ({ name: a.name(), description: a.description, required: a.required, variadic: a.variadic })),
    options,
    subcommands: command.commands.filter((c) => c.name() !== 'help').map(commandModel),
    help: helpText(command),
  };
}
