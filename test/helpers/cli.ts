/** Runs the built CLI as a user would, through execa, never rejecting. */
import { execa, type Options } from 'execa';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/diskkit.js', import.meta.url));

export async function diskkit(args: string[], options: Options = {}) {
  return execa('node', [BIN, ...args], { reject: false, encoding: 'utf8', ...options, env: { NO_COLOR: '1', ...(options.env ?? {}) } });
}

/** Runs the CLI and returns stdout as raw bytes. */
export async function diskkitBytes(args: string[], env: Record<string, string> = {}) {
  return execa('node', [BIN, ...args], { reject: false, encoding: 'buffer', stripFinalNewline: false, env: { NO_COLOR: '1', ...env } });
}
