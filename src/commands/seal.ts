/**
 * `diskkit seal IMAGE --key ed25519.pem --out SEALED`: writes a compacted, read-only copy
 * of a Cartridge image's current state (no snapshots, no free space) and signs it with an
 * Ed25519 private key; `diskkit verify SEALED --pub KEY.pub` checks it. A sealed image
 * refuses every write (E_READ_ONLY).
 */
import type { Command } from 'commander';
import { count, escapeName, globalOptions, printJson, runAction, usageError } from './context.js';

export function define(program: Command): void {
  program
    .command('seal')
    .description('write a compacted, read-only, Ed25519-signed copy of a Cartridge image')
    .argument('<image>', 'Cartridge image to seal (not changed)')
    .requiredOption('--key <pem>', 'Ed25519 private key (PEM, PKCS#8)')
    .requiredOption('--out <sealed>', 'the sealed image to write (replaced if it exists)')
    .option('--invariant', 'reproducible output (seal time from SOURCE_DATE_EPOCH, else 1980-01-01)')
    .addHelpText('after', '\nMake a key pair with openssl:\n  openssl genpkey -algorithm ed25519 -out seal.pem\n  openssl pkey -in seal.pem -pubout -out seal.pub\nThen: diskkit seal fw.cart --key seal.pem --out fw.sealed.cart && diskkit verify fw.sealed.cart --pub seal.pub')
    .action((image: string, flags: { key: string; out: string; invariant?: boolean }, command: Command) => {
      const g = globalOptions(command);
      return runAction(image, async () => {
        const [{ readFileSync, realpathSync, existsSync }, { resolve }] = await Promise.all([import('node:fs'), import('node:path')]);
        if (existsSync(flags.out) && existsSync(image) && realpathSync(flags.out) === realpathSync(image)) throw usageError('--out must not be the image being sealed');
        const [{ openCartridgeFile, closeCartridgeFile, sealCartridge, ed25519PrivateKey }, { openWithPassphrase }, { timePolicy }] = await Promise.all([
          import('../engine/cartridge/index.js'),
          import('./cartridge-secrets.js'),
          import('./write-times.js'),
        ]);
        let pem: Buffer;
        try {
          pem = readFileSync(flags.key);
        } catch {
          throw usageError(`cannot read the --key file ${resolve(flags.key)}`);
        }
        const privateKey = ed25519PrivateKey(pem);
        const times = timePolicy(Boolean(flags.invariant));
        const { value: file } = await openWithPassphrase(image, (passphrase) => openCartridgeFile(image, { passphrase }));
        try {
          const report = sealCartridge(file, flags.out, privateKey, { nowMs: times.invariant ? times.now().getTime() : undefined });
          if (g.json) printJson({ image, ...report });
          else if (!g.quiet) {
            const dropped = report.snapshotsDropped > 0 ? ` (${count(report.snapshotsDropped, 'snapshot')} not carried over)` : '';
            process.stdout.write(`${escapeName(flags.out)}: sealed ${report.files} files and directories in ${report.bytes} bytes${dropped}\nsha256 ${report.sha256}\nkey ${report.publicKey}\n`);
          }
        } finally {
          closeCartridgeFile(file);
        }
      });
    });
}
