import type { Command } from 'commander';
import { runAction, usageError } from './context.js';

// Placeholder until the issue that builds 'mv' lands.
export function define(program: Command): void {
  program
    .command('mv')
    .description('(not built yet)')
    .allowUnknownOption()
    .argument('[args...]')
    .action(() => runAction(undefined, () => {
      throw usageError("'mv' is not built yet");
    }));
}
