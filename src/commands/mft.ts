import type { Command } from 'commander';
import { runAction, usageError } from './context.js';

// Placeholder until the MFT issue lands.
export function define(program: Command): void {
  const mft = program.command('mft').description('NTFS Master File Table tools');
  for (const name of ['index', 'bench']) {
    mft
      .command(name)
      .description('(not built yet)')
      .allowUnknownOption()
      .argument('[args...]')
      .action(() => runAction(undefined, () => {
        throw usageError(`'mft ${name}' is not built yet`);
      }));
  }
}
