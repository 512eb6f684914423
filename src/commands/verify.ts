/**
 * `diskkit verify SEALED --pub KEY.pub`: checks a sealed Cartridge image: its SHA-256
 * against the SEAL page, the Ed25519 signature against the given public key, then the
 * whole image as fsck does (every page, tag and extent). Exit 0 when all of it holds,
 * 1 otherwise, naming what failed.
 */
import type { Command } from 'commander';
import { DiskkitError, ErrorCode, isDiskkitError } from '../engine/errors.js';
import { escapeName, globalOptions, printJson, runAction, usageError, warn } from './context.js';
import { ExitCode } from './exit-codes.js';

export function define(program: Command): void {
  program
    .command('verify')
    .description('check the Ed25519 seal of a sealed Cartridge image, then every page and extent')
    .argument('<sealed>', 'sealed Cartridge image')
    .requiredOption('--pub <pem>', 'Ed25519 public key (PEM, SPKI) of the sealer')
    .option('--seal-only', 'check the signature and hash only, not every page and extent')
    .action((image: string, flags: { pub: string; sealOnly?: boolean }, command: Command) => {
      const g = globalOptions(command);
      return runAction(image, async () => {
        const { readFileSync } = await import('node:fs');
        const [{ verifySeal, ed25519PublicKey, checkCartridge, openCartridgeFile, closeCartridgeFile }, { openWithPassphrase }] = await Promise.all([import('../engine/cartridge/index.js'), import('./cartridge-secrets.js')]);
        let pem: Buffer;
        try {
          pem = readFileSync(flags.pub);
        } catch {
          throw usageError(`cannot read the --pub file ${flags.pub}`);
        }
        const seal = verifySeal(image, ed25519PublicKey(pem));
        let check: Awaited<ReturnType<typeof checkCartridge>> | null = null;
        if (seal.valid && !flags.sealOnly) {
          // Opened once to learn whether a passphrase is needed (and to ask for it); the check reuses the unlocked keys.
          let opened: ReturnType<typeof openCartridgeFile> | null = null;
          try {
            ({ value: opened } = await openWithPassphrase(image, (p) => openCartridgeFile(image, { passphrase: p })));
          } catch (error) {
            if (!isDiskkitError(error) || error.context.reason !== 'passphrase-needed') throw error;
            // The signed hash already covers every byte; without the key only the tree walk is skipped.
            warn(g, image, 'encrypted image and no passphrase: seal checked, pages and extents not walked (give --key-file or DISKKIT_PASSPHRASE)');
          }
          if (opened) {
            const keys = opened.keys ?? undefined;
            closeCartridgeFile(opened);
            check = await checkCartridge(image, { keys });
          }
        }
        const problems = [...seal.problems, ...(check ? check.errors.map((e) => `${e.code} ${e.message}`) : [])];
        const valid = problems.length === 0;
        const why = seal.sealed ? `seal does not verify (${problems.length} problem${problems.length === 1 ? '' : 's'})` : 'image is not sealed';
        if (g.json) {
          // One document, the verdict in it; the exit code says it too.
          printJson({ image, valid, sealed: seal.sealed, sealedAt: seal.sealedMs === null ? null : new Date(seal.sealedMs).toISOString(), sha256: seal.sha256, publicKey: seal.publicKey, checked: check !== null, problems, exitCode: valid ? ExitCode.OK : ExitCode.ERROR });
          if (!valid) process.stderr.write(`diskkit: ${escapeName(image)}: ${why}\n`);
          return valid ? ExitCode.OK : ExitCode.ERROR;
        }
        for (const p of problems) process.stdout.write(`${escapeName(p)}\n`);
        if (valid) process.stdout.write(`${escapeName(image)}: seal valid (sealed ${new Date(seal.sealedMs!).toISOString()}, sha256 ${seal.sha256})${check ? `, ${check.stats.pagesVerified} pages and ${check.stats.extents} extents verified` : ''}\n`);
        else throw new DiskkitError(ErrorCode.CORRUPT, why, { context: { reason: 'seal' } });
      });
    });
}
