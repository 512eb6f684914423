/**
 * fsck.fat's everyday flags for `diskkit fsck`, so scripts written for fsck.fat
 * carry over: -a (repair automatically, as -y / --repair), -n (check only: the
 * default), -r (ask before repairing: only on a terminal, else a usage error as
 * there is nobody to ask), -l (list each path as it is checked), -v, -V (a second,
 * read-only pass after the first that must find the volume clean) and -w (accepted:
 * diskkit always writes its repairs at the end of the pass, in one go).
 */
import { createInterface } from 'node:readline';
import { escapeName, usageError } from './context.js';

export interface FsckFlagValues {
  repair?: boolean;
  auto?: boolean;
  checkOnly?: boolean;
  interactive?: boolean;
  list?: boolean;
  verify?: boolean;
  writeImmediately?: boolean;
}

export interface FsckPlan {
  /** Repair without asking (-a, -y, --repair). */
  repair: boolean;
  /** Ask on the terminal before repairing (-r). */
  ask: boolean;
  list: boolean;
  verify: boolean;
}

/** Checks the flag combination; throws usage errors (exit 16 under fsck). */
export function planFsck(flags: FsckFlagValues, stdinIsTty = Boolean(process.stdin.isTTY)): FsckPlan {
  const repair = Boolean(flags.repair || flags.auto);
  const chosen = [repair && '-a/-y', flags.checkOnly && '-n', flags.interactive && '-r'].filter(Boolean);
  if (chosen.length > 1) throw usageError(`${chosen.join(' and ')} do not go together: -n checks only, -a repairs, -r asks first`);
  if (flags.interactive && !stdinIsTty) throw usageError('-r asks before each repair and needs a terminal on stdin; use -a to repair without asking, or -n to check only');
  return { repair, ask: Boolean(flags.interactive), list: Boolean(flags.list), verify: Boolean(flags.verify) };
}

/** Shows what the check found and asks on the terminal whether to repair; true for y/yes. */
export async function askToRepair(errors: readonly { code: string; message: string; path?: string[] }[]): Promise<boolean> {
  for (const f of errors) process.stderr.write(`${f.code} ${f.path ? f.path.map(escapeName).join(' and ') + ': ' : ''}${escapeName(f.message)}\n`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await new Promise<string>((resolve) => rl.question(`${errors.length} error${errors.length === 1 ? '' : 's'} found. Repair? [y/N] `, resolve));
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** -l: "Checking file PATH" for every entry, as fsck.fat -l lists them; unreadable directories are left to the check. */
export async function listFiles(image: string, partition: number | undefined): Promise<void> {
  const [{ openVolume }, { walkVolume }] = await Promise.all([import('../engine/open-volume.js'), import('../engine/walk.js')]);
  let volume;
  try {
    volume = await openVolume(image, { partition });
  } catch {
    return; // the check itself reports why the volume cannot be read
  }
  const lines: string[] = [];
  try {
    walkVolume(volume, '/', { recursive: true }, {
      directory() {},
      entry(e) {
        const path = e.parent === '/' ? `/${e.name}` : `${e.parent}/${e.name}`;
        lines.push(`Checking file ${escapeName(path)}${e.shortName && e.shortName !== e.name ? ` (${escapeName(e.shortName)})` : ''}`);
        return e.type === 'dir';
      },
      error() {},
    });
  } finally {
    volume.close();
  }
  if (lines.length > 0) process.stdout.write(lines.join('\n') + '\n');
}
