/**
 * Access to the peer tools that act as the oracle (mkfs.fat, fsck.fat, mtools,
 * sleuthkit, ntfs-3g). Under CI=true a missing tool fails the test; elsewhere the
 * test is skipped with a visible reason.
 */
import { execFileSync } from 'node:child_process';

export function hasTool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** True when the tools are present; throws under CI when they are not. */
export function requireTools(...names: string[]): boolean {
  const missing = names.filter((n) => !hasTool(n));
  if (missing.length === 0) return true;
  if (process.env.CI === 'true') throw new Error(`oracle tools missing in CI: ${missing.join(', ')}`);
  return false;
}
