/**
 * Deleted trees on real NTFS (fixtures/make-ntfs-fixtures.sh `deleted`: mkntfs +
 * ntfs-3g, made in a temp directory), with fls -r -p as the oracle: `ls -R --deleted`
 * walks into deleted directories as fls does, and the deleted children of a
 * directory whose MFT record was reused since are not shown under what took the
 * record but under /$Orphan, as the MFT indexer shows them (fls: $OrphanFiles).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireRoot, requireTools } from './helpers/oracle.js';
import { diskkit } from './helpers/cli.js';

const tools = requireTools('mkntfs', 'ntfs-3g', 'fls', 'tsk_recover') && requireRoot('mounting NTFS through ntfs-3g (FUSE)');
const script = fileURLToPath(new URL('../fixtures/make-ntfs-fixtures.sh', import.meta.url));
let dir = '';
let image = '';

interface FlsRow {
  path: string;
  type: 'file' | 'dir';
  deleted: boolean;
}

/** fls -r -p rows (the virtual $OrphanFiles directory itself left out). */
function fls(): FlsRow[] {
  const out = execFileSync('fls', ['-r', '-p', image], { encoding: 'utf8' });
  const rows: FlsRow[] = [];
  for (const line of out.split('\n')) {
    const m = /^(\S)\/(\S) (\* )?\S+:\t(.*)$/.exec(line);
    if (!m || m[1] === 'V') continue;
    rows.push({ path: '/' + m[4]!, type: m[2] === 'd' ? 'dir' : 'file', deleted: m[3] !== undefined });
  }
  return rows;
}

const line = (r: { path: string; type: string }): string => `${r.path}\t${r.type}`;

/** fls's deleted rows at the paths diskkit gives them: $OrphanFiles is /$Orphan, its OrphanFile-N (records without a name) left out. */
function deletedRows(): FlsRow[] {
  return fls()
    .filter((r) => r.deleted && !/^\/\$OrphanFiles\/OrphanFile-\d+$/.test(r.path))
    .map((r) => ({ ...r, path: r.path.replace(/^\/\$OrphanFiles\//, '/$Orphan/') }));
}

describe.runIf(tools)('deleted trees on a real NTFS volume (fls -r -p as the oracle)', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'diskkit-ntfsdel-'));
    execFileSync(script, [dir, 'deleted'], { stdio: 'ignore' });
    image = join(dir, 'deleted.ntfs');
  }, 60_000);

  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('the fixture holds nested deleted directories and orphans of a reused directory record', () => {
    const rows = fls();
    expect(rows.filter((r) => r.deleted && !r.path.startsWith('/$OrphanFiles/') && r.path.split('/').length > 3).length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.deleted && r.path.startsWith('/$OrphanFiles/') && !/OrphanFile-\d+$/.test(r.path)).length).toBeGreaterThan(0);
  });

  it('ls -R --deleted --json lists the deleted entries fls lists, inside deleted directories too, and orphans under /$Orphan, not under what took their parent\'s record', async () => {
    const expected = deletedRows().map(line);
    const r = await diskkit(['--json', 'ls', '-R', '-a', '--deleted', `${image}:/`]);
    expect(r.exitCode, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as { path: string; type: string; deleted?: boolean }[];
    expect(rows.filter((e) => e.deleted).map(line).sort()).toEqual(expected.sort());
    // and the live tree is fls's live tree
    const live = fls().filter((r) => !r.deleted && !r.path.startsWith('/$')).map(line);
    expect(rows.filter((e) => !e.deleted && !e.path.startsWith('/$')).map(line).sort()).toEqual(live.sort());
  });

  it('ls -R --deleted --format jsonl selects the same deleted entries', async () => {
    const expected = deletedRows().map((r) => r.path);
    const r = await diskkit(['ls', '-R', '-a', '--deleted', '--format', 'jsonl', `${image}:/`]);
    expect(r.exitCode, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { path: string; deleted?: boolean });
    expect(rows.filter((e) => e.deleted).map((e) => e.path).sort()).toEqual(expected.sort());
  });

  it('mft index --deleted puts the orphans fls puts in $OrphanFiles under /$Orphan, and the rest at fls\'s paths', async () => {
    const r = await diskkit(['mft', 'index', '--deleted', image]);
    expect(r.exitCode, r.stderr).toBe(0);
    const ours = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { path: string; deleted: boolean; record: number }).filter((e) => e.deleted && e.record >= 16);
    const expected = deletedRows().map((x) => x.path);
    expect(ours.map((e) => e.path).sort()).toEqual(expected.sort());
  });

  it('cp -r --deleted writes what tsk_recover -e writes, deleted directories entered (the orphans left out: not under the root)', async () => {
    const ours = join(dir, 'cp-deleted');
    const theirs = join(dir, 'tsk-e');
    const r = await diskkit(['cp', '-r', '--deleted', `${image}:/`, ours]);
    expect(r.exitCode, r.stderr).toBe(0);
    execFileSync('tsk_recover', ['-e', image, theirs], { stdio: 'ignore' });
    const tree = (root: string, skip: RegExp): Map<string, string> => {
      const out = new Map<string, string>();
      const visit = (d: string): void => {
        for (const name of readdirSync(d)) {
          const p = join(d, name);
          if (skip.test(relative(root, p))) continue;
          if (statSync(p).isDirectory()) visit(p);
          else out.set(relative(root, p), readFileSync(p).toString('base64'));
        }
      };
      visit(root);
      return out;
    };
    const want = tree(theirs, /^\$OrphanFiles/);
    expect([...want.keys()].some((p) => p.split('/').length > 2)).toBe(true);
    expect(tree(ours, /^$/)).toEqual(want);
  });
});
