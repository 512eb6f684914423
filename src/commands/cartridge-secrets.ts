/**
 * Passphrases for the commands that manage Cartridge images (snapshot, compact, seal,
 * verify, key). The current passphrase comes from the command's provider (global
 * --key-file, DISKKIT_PASSPHRASE, a prompt: commands/passphrase.ts), asked only when the
 * image turns out to be encrypted; the new one of `key change` from --new-key-file,
 * DISKKIT_NEW_PASSPHRASE or a prompt. Never an argument (`ps`, shell history).
 */
import { DiskkitError, ErrorCode, isDiskkitError } from '../engine/errors.js';
import { readKeyFile } from './passphrase.js';

export interface PassphraseSource {
  /** File whose first line is the passphrase (as --key-file). */
  keyFile?: string;
  /** Environment variable to read (DISKKIT_PASSPHRASE unless told). */
  env?: string;
  /** What the prompt asks for. */
  prompt?: string;
}


/** Reads a line from the terminal without echoing it. */
export function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    let typed = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (error: Error | null) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: string) => {
      for (const c of chunk) {
        if (c === '\r' || c === '\n') return done(null);
        if (c === '\u0003') return done(new DiskkitError(ErrorCode.CANCELLED, 'interrupted at the passphrase prompt'));
        if (c === '\u007f' || c === '\b') typed = typed.slice(0, -1);
        else typed += c;
      }
    };
    stdin.on('data', onData);
  });
}

/** The passphrase from the first source that has one; E_USAGE naming all three when none does. */
export async function getPassphrase(source: PassphraseSource = {}): Promise<string> {
  if (source.keyFile !== undefined) return readKeyFile(source.keyFile);
  const env = source.env ?? 'DISKKIT_PASSPHRASE';
  const value = process.env[env];
  if (value !== undefined && value !== '') return value;
  if (process.stdin.isTTY && process.stderr.isTTY) {
    const typed = await promptHidden(source.prompt ?? 'Passphrase: ');
    if (typed.length === 0) throw new DiskkitError(ErrorCode.BAD_PASSPHRASE, 'empty passphrase', { context: { reason: 'empty' } });
    return typed;
  }
  const what = env === 'DISKKIT_PASSPHRASE' ? 'image is encrypted: a passphrase is needed' : 'a new passphrase is needed';
  throw new DiskkitError(ErrorCode.BAD_PASSPHRASE, what, {
    context: { reason: 'passphrase-needed' },
    hint: `set ${env} or use ${source.env ? '--new-key-file' : '--key-file'} (or run on a terminal to be asked)`,
  });
}

/**
 * Runs `open` without a passphrase first; when the image says it is encrypted, asks the
 * command's passphrase provider (global --key-file, DISKKIT_PASSPHRASE, or a prompt:
 * commands/passphrase.ts) and runs `open` again with it. Returns what `open` returned and
 * the passphrase used (undefined for a plain image).
 */
export async function openWithPassphrase<T>(image: string, open: (passphrase: string | undefined) => T): Promise<{ value: T; passphrase: string | undefined }> {
  let needed: DiskkitError;
  try {
    return { value: open(undefined), passphrase: undefined };
  } catch (error) {
    if (!isDiskkitError(error) || error.context.reason !== 'passphrase-needed') throw error;
    needed = error;
  }
  const { passphraseFor } = await import('../engine/passphrase.js');
  const passphrase = passphraseFor(image, 'open');
  if (passphrase === undefined) throw needed;
  return { value: open(passphrase), passphrase };
}
