/**
 * Where an encrypted image's passphrase comes from. The engine never prompts or reads
 * the environment itself: the command layer installs a provider (DISKKIT_PASSPHRASE,
 * --key-file, or a prompt on the terminal; commands/passphrase.ts) and a format asks it
 * only when the image it opens is encrypted, so plain images never prompt.
 */
export type PassphraseProvider = (image: string, purpose: 'open' | 'create') => string | undefined;

let provider: PassphraseProvider = () => undefined;

export function setPassphraseProvider(next: PassphraseProvider): void {
  provider = next;
}

/** The passphrase for `image`, or undefined when no source has one. */
export function passphraseFor(image: string, purpose: 'open' | 'create' = 'open'): string | undefined {
  return provider(image, purpose);
}
