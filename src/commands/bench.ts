import type { Command } from 'commander';
import { runAction, usageError } from './context.js';

// Placeholder until the issue that builds 'bench' lands.
export function define(program: Command): void {
  program
    .command('bench')
    .description('(not built yet)')
    .allowUnknownOption()
    .argument('[args...]')
    .action(() => runAction(undefined, () => {
      throw usageError("'bench' is not built yet");
    }));
}
