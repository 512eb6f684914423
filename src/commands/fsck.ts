import type { Command } from 'commander';
import { runAction, usageError } from './context.js';

// Placeholder until the issue that builds 'fsck' lands.
export function define(program: Command): void {
  program
    .command('fsck')
    .description('(not built yet)')
    .allowUnknownOption()
    .argument('[args...]')
    .action(() => runAction(undefined, () => {
      throw usageError("'fsck' is not built yet");
    }));
}
