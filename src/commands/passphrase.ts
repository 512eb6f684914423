/**
 * Where commands get an encrypted Cartridge's passphrase, in this order: the file named
 * by --key-file (its first line), DISKKIT_PASSPHRASE, or a prompt on the terminal with
 * echo off when stdin is one. Never a command-line argument: those show in `ps` and in
 * shell history. The engine asks only when the image it opens is encrypted.
 */
import { closeSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { DiskkitError, ErrorCode } from '../engine/errors.js';
import type { PassphraseProvider } from '../engine/passphrase.js';

/** The first line of a key file (a trailing newline is not part of the passphrase); --key-file and --new-key-file alike. */
export function readKeyFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DiskkitError(code === 'ENOENT' ? ErrorCode.NOT_FOUND : ErrorCode.IO, `cannot read --key-file ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`, { context: { path } });
  }
  const line = text.split(/\r?\n/)[0] ?? '';
  if (line === '') throw new DiskkitError(ErrorCode.BAD_PASSPHRASE, `--key-file ${path} is empty`, { context: { path, reason: 'empty-key-file' } });
  return line;
}

/**
 * Turns the terminal's echo on or off. child_process is required here, when a prompt
 * is shown, not imported with the module: every command loads this module, few prompt.
 */
function stty(fd: number, setting: 'echo' | '-echo'): void {
  const { spawnSync } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
  spawnSync('stty', [setting], { stdio: [fd, 'ignore', 'ignore'] });
}

/** Reads one line from the terminal with echo off; undefined when there is no terminal. */
function promptHidden(question: string): string | undefined {
  if (!process.stdin.isTTY) return undefined;
  let fd: number;
  try {
    fd = openSync('/dev/tty', 'r+');
  } catch {
    return undefined;
  }
  const restore = (): void => {
    stty(fd, 'echo');
  };
  // Ctrl-C at the prompt must not leave the terminal without echo.
  process.once('exit', restore);
  try {
    // Echo off before the question shows: stty is a process of its own, and a passphrase
    // typed (or pasted) as soon as the question appeared was echoed in between.
    stty(fd, '-echo');
    writeSync(fd, question);
    const bytes: number[] = [];
    const one = Buffer.alloc(1);
    for (;;) {
      const n = readSync(fd, one, 0, 1, null);
      if (n === 0 || one[0] === 0x0a) break;
      if (one[0] !== 0x0d) bytes.push(one[0]!);
    }
    return Buffer.from(bytes).toString('utf8');
  } finally {
    restore();
    process.removeListener('exit', restore);
    writeSync(fd, '\n');
    closeSync(fd);
  }
}

export function commandPassphraseProvider(keyFile: string | undefined): PassphraseProvider {
  const cache = new Map<string, string>();
  return (image, purpose) => {
    if (keyFile !== undefined) return readKeyFile(keyFile);
    const fromEnv = process.env.DISKKIT_PASSPHRASE;
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    const known = cache.get(image);
    if (known !== undefined) return known;
    const first = promptHidden(`Passphrase for ${image}: `);
    if (first === undefined) return undefined;
    if (purpose === 'create' && promptHidden(`Repeat the passphrase: `) !== first) {
      throw new DiskkitError(ErrorCode.BAD_PASSPHRASE, 'the two passphrases differ: nothing was written', { context: { image, reason: 'mismatch' } });
    }
    cache.set(image, first);
    return first;
  };
}
