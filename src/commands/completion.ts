/**
 * `diskkit completion bash|zsh|fish`: prints a completion script for the shell,
 * generated from the command tree (commands, `mft` subcommands and every option), so
 * it is always the one --help describes. Install with, for example:
 *   diskkit completion bash > ~/.local/share/bash-completion/completions/diskkit
 *   diskkit completion zsh > "${fpath[1]}/_diskkit"
 *   diskkit completion fish > ~/.config/fish/completions/diskkit.fish
 */
import type { Command } from 'commander';
import { fullProgram, runAction, usageError } from './context.js';

const SHELLS = ['bash', 'zsh', 'fish'];

export function define(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .argument('<shell>', 'bash, zsh or fish')
    .addHelpText(
      'after',
      '\nInstall:\n  diskkit completion bash > ~/.local/share/bash-completion/completions/diskkit\n  diskkit completion zsh > "${fpath[1]}/_diskkit"\n  diskkit completion fish > ~/.config/fish/completions/diskkit.fish',
    )
    .action((shell: string) =>
      runAction(undefined, async () => {
        if (!SHELLS.includes(shell)) throw usageError(`completion takes bash, zsh or fish, not '${shell}'`);
        // The whole tree: every command module, as `diskkit --help` loads them.
        const [{ commandModel }, scripts] = await Promise.all([import('./command-model.js'), import('./completion-scripts.js')]);
        const model = commandModel(await fullProgram());
        const text = shell === 'bash' ? scripts.bashCompletion(model) : shell === 'zsh' ? scripts.zshCompletion(model) : scripts.fishCompletion(model);
        process.stdout.write(text);
      }),
    );
}
