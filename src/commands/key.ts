/**
 * `diskkit key change IMAGE`: gives an encrypted Cartridge image a new passphrase. The
 * master key is re-wrapped under the new one; no data is rewritten (docs/cartridge-format.md
 * §10.1). The old passphrase comes from the global --key-file, DISKKIT_PASSPHRASE or a prompt; the new
 * one from --new-key-file, DISKKIT_NEW_PASSPHRASE or a prompt (asked twice).
 */
import type { Command } from 'commander';
import { DiskkitError, ErrorCode } from '../engine/errors.js';
import { escapeName, globalOptions, printJson, refuseReadOnlyImage, runAction, usageError } from './context.js';

export function define(program: Command): void {
  program
    .command('key')
    .description('change the passphrase of an encrypted Cartridge image (re-wraps the master key; no data is rewritten)')
    .argument('<action>', 'change')
    .argument('<image>', 'encrypted Cartridge image')
    .option('--new-key-file <file>', 'the new passphrase, from this file (else DISKKIT_NEW_PASSPHRASE, else a prompt)')
    .option('-f, --force', 'write even when the image file is read-only (chmod 444)')
    .addHelpText('after', '\nExample (no terminal): DISKKIT_PASSPHRASE=old DISKKIT_NEW_PASSPHRASE=new diskkit key change fw.cart')
    .action((action: string, image: string, flags: { newKeyFile?: string; force?: boolean }, command: Command) => {
      const g = globalOptions(command);
      return runAction(image, async () => {
        if (action !== 'change') throw usageError(`key takes 'change', not '${action}'`);
        refuseReadOnlyImage(image, Boolean(flags.force));
        const [{ CartridgeStore, acquireWriterLock }, { openWithPassphrase, getPassphrase }] = await Promise.all([import('../engine/cartridge/index.js'), import('./cartridge-secrets.js')]);
        // One writer at a time (IMAGE.lock).
        const release = acquireWriterLock(image);
        let opened: { value: import('../engine/cartridge/index.js').CartridgeStore; passphrase: string | undefined };
        try {
          opened = await openWithPassphrase(image, (p) => CartridgeStore.open(image, { writable: true, passphrase: p }));
        } catch (error) {
          release();
          throw error;
        }
        const { value: store, passphrase } = opened;
        try {
          if (passphrase === undefined) throw new DiskkitError(ErrorCode.UNSUPPORTED, 'image is not encrypted: it has no passphrase to change', { hint: 'encryption is chosen at mkfs (--encrypt)' });
          const source = { keyFile: flags.newKeyFile, env: 'DISKKIT_NEW_PASSPHRASE', prompt: 'New passphrase: ' };
          const fresh = await getPassphrase(source);
          if (flags.newKeyFile === undefined && !process.env.DISKKIT_NEW_PASSPHRASE) {
            const again = await getPassphrase({ ...source, prompt: 'New passphrase again: ' });
            if (again !== fresh) throw new DiskkitError(ErrorCode.USAGE, 'the two new passphrases differ: nothing was changed');
          }
          store.changePassphrase(passphrase, fresh);
          if (g.json) printJson({ image, changed: true, generation: store.generation });
          else if (!g.quiet) process.stdout.write(`${escapeName(image)}: passphrase changed (the old one opens neither meta page)\n`);
        } finally {
          store.close();
          release();
        }
      });
    });
}
