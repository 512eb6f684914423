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

/** Whether this is a CI run: CI set to anything but an empty string, "0" or "false" (CI=true, CI=1...). */
export function isCi(): boolean {
  const ci = (process.env.CI ?? '').trim().toLowerCase();
  return ci !== '' && ci !== '0' && ci !== 'false';
}

/** Reasons printed once each, so a skipped oracle test says why. */
const reported = new Set<string>();

/**
 * True when the tools are present; throws under CI when they are not. Outside CI the
 * caller skips, and the reason (the missing tools) is printed on stderr.
 */
export function requireTools(...names: string[]): boolean {
  const missing = names.filter((n) => !hasTool(n));
  if (missing.length === 0) return true;
  if (isCi()) throw new Error(`oracle tools missing in CI: ${missing.join(', ')}`);
  const reason = `oracle tests skipped: ${missing.join(', ')} not installed`;
  if (!reported.has(reason)) {
    reported.add(reason);
    process.stderr.write(`${reason}\n`);
  }
  return false;
}

/** True when running as root (mknod, mounts); throws under CI otherwise; elsewhere prints why the test is skipped. */
export function requireRoot(what: string): boolean {
  if (process.getuid?.() === 0) return true;
  if (isCi()) throw new Error(`${what} needs root, and this CI run is not root`);
  const reason = `skipped: ${what} needs root`;
  if (!reported.has(reason)) {
    reported.add(reason);
    process.stderr.write(`${reason}\n`);
  }
  return false;
}
