import type { Command } from 'commander';
import { runAction, usageError } from './context.js';

// Placeholder until the issue that builds 'cp' lands.
export function define(program: Command): void {
  program
    .command('cp')
    .description('(not built yet)')
    .allowUnknownOption()
    .argument('[args...]')
    .action(() => runAction(undefined, () => {
      throw usageError("'cp' is not built yet");
    }));
}
