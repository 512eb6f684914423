import type { Command } from 'commander';
import { runAction, usageError } from './context.js';

// Placeholder until the issue that builds 'mkdir' lands.
export function define(program: Command): void {
  program
    .command('mkdir')
    .description('(not built yet)')
    .allowUnknownOption()
    .argument('[args...]')
    .action(() => runAction(undefined, () => {
      throw usageError("'mkdir' is not built yet");
    }));
}
