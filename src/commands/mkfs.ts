import type { Command } from 'commander';
import { runAction, usageError } from './context.js';

// Placeholder until the issue that builds 'mkfs' lands.
export function define(program: Command): void {
  program
    .command('mkfs')
    .description('(not built yet)')
    .allowUnknownOption()
    .argument('[args...]')
    .action(() => runAction(undefined, () => {
      throw usageError("'mkfs' is not built yet");
    }));
}
