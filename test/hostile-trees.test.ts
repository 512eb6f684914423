/**
 * Issue 12, defect 1: garbage directory trees must not make walks unbounded. A
 * directory whose clusters were already listed (through an alias or a chain that
 * runs through another directory's clusters) is reported once and not descended
 * into; depth and path length stop at the named limits of src/engine/limits.ts,
 * the same for ls -R, cp -r and the generic walk. Before the fix, ls -R of the
 * shared-cluster image below printed 3^24 directories (gigabytes) and cp -r ran out
 * of memory.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PATH_CHARS, MAX_TREE_DEPTH, walkLimitExceeded } from '../src/engine/limits.js';
import { diskkit } from './helpers/cli.js';
import { writeDeepTree, writeSharedClusterTree } from './helpers/hostile-fat.js';
import { requireTools } from './helpers/oracle.js';

const tools = requireTools('mkfs.fat');
let dir = '';
const LIMITS = { timeout: 60_000, env: { NODE_OPTIONS: '--max-old-space-size=256' } };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'diskkit-hostile-'));
  if (!tools) return;
  writeSharedClusterTree(join(dir, 'shared.img'), 24);
  writeDeepTree(join(dir, 'deep.img'), MAX_TREE_DEPTH + 20);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Paths named in "(path X, ...)" of each stderr line. */
function reportedPaths(stderr: string): string[] {
  return stderr.split('\n').flatMap((l) => /\(path ([^,)]+)/.exec(l)?.[1] ?? []);
}

describe.runIf(tools)('directories sharing clusters', () => {
  it('ls -R lists each directory cluster once and reports each alias once', async () => {
    const r = await diskkit(['ls', '-R', '-a', '--deleted', '--json', join(dir, 'shared.img')], LIMITS);
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(1);
    // /LOOP reads all 24 chain clusters; its two subdirectories both start inside them.
    const listing = JSON.parse(r.stdout) as { path: string; type: string }[];
    const dirsListed = new Set(listing.map((e) => e.path.slice(0, e.path.lastIndexOf('/')) || '/'));
    expect([...dirsListed].sort()).toEqual(['/', '/LOOP']);
    const paths = reportedPaths(r.stderr);
    expect(paths.sort()).toEqual(['/LOOP/A.0', '/LOOP/B.0']);
    expect(new Set(paths).size).toBe(paths.length);
    expect(r.stderr).toMatch(/shares cluster \d+ with \/LOOP/);
    for (const line of r.stderr.trim().split('\n')) expect(line).toMatch(/^diskkit: /);
  });

  it('cp -r copies each directory once, within 256 MiB, and reports the aliases', async () => {
    const out = join(dir, 'out-shared');
    const r = await diskkit(['cp', '-r', `${join(dir, 'shared.img')}:/`, out], LIMITS);
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(1);
    for (const line of r.stderr.trim().split('\n')) expect(line).toMatch(/^diskkit: /);
    // /LOOP reads the whole chain but ends at the end mark after A.0 and B.0; both start inside
    // /LOOP's own clusters, so each is created empty and reported, never descended into.
    const expected = ['A.0', 'B.0'];
    expect(readdirSync(join(out, 'LOOP')).sort()).toEqual(expected);
    for (const name of expected) expect(readdirSync(join(out, 'LOOP', name))).toEqual([]);
    const paths = reportedPaths(r.stderr);
    expect(paths.sort()).toEqual(expected.map((n) => `/LOOP/${n}`));
  });
});

describe.runIf(tools)('depth and path limits', () => {
  it('ls -R stops at MAX_TREE_DEPTH with one E_LIMIT report', async () => {
    const r = await diskkit(['ls', '-R', join(dir, 'deep.img')], LIMITS);
    expect(r.exitCode).toBe(1);
    const limitLines = r.stderr.split('\n').filter((l) => l.includes(`deeper than ${MAX_TREE_DEPTH} levels`));
    expect(limitLines).toHaveLength(1);
    const listed = r.stdout.split('\n').filter((l) => l.startsWith('/') && l.endsWith(':'));
    // The root plus MAX_TREE_DEPTH levels below it.
    expect(listed).toHaveLength(MAX_TREE_DEPTH + 1);
  });

  it('cp -r stops at the same depth', async () => {
    const out = join(dir, 'out-deep');
    const r = await diskkit(['cp', '-r', `${join(dir, 'deep.img')}:/`, out], LIMITS);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.split('\n').filter((l) => l.includes(`deeper than ${MAX_TREE_DEPTH} levels`))).toHaveLength(1);
    let depth = 0;
    for (let d = join(out, 'D'); readdirSync(d).length > 0; d = join(d, 'D')) depth++;
    // Levels 1..MAX_TREE_DEPTH were listed (the last holds the empty, unlisted level below).
    expect(depth).toBe(MAX_TREE_DEPTH);
  });

  it('cp -r out of a Cartridge image stops at the same depth (the copy keeps the limit, whatever the format lists)', async () => {
    const host = join(dir, 'deep-host');
    let leaf = host;
    for (let i = 0; i < MAX_TREE_DEPTH + 20; i++) leaf = join(leaf, 'D');
    mkdirSync(leaf, { recursive: true });
    writeFileSync(join(leaf, 'leaf.txt'), 'x');
    const img = join(dir, 'deep.cart');
    expect((await diskkit(['mkfs', img, '--type', 'cartridge', '--from', host], LIMITS)).exitCode).toBe(0);
    const out = join(dir, 'out-deep-cart');
    const r = await diskkit(['cp', '-r', `${img}:/`, out], LIMITS);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.split('\n').filter((l) => l.includes(`deeper than ${MAX_TREE_DEPTH} levels`))).toHaveLength(1);
    let depth = 0;
    for (let d = join(out, 'D'); readdirSync(d).length > 0; d = join(d, 'D')) depth++;
    expect(depth).toBe(MAX_TREE_DEPTH);
  });

  it('names the limit that was passed', () => {
    expect(walkLimitExceeded('/a', MAX_TREE_DEPTH)).toBeNull();
    expect(walkLimitExceeded('/a', MAX_TREE_DEPTH + 1)).toMatch(/deeper than/);
    expect(walkLimitExceeded('/' + 'x'.repeat(MAX_PATH_CHARS), 1)).toMatch(/longer than 4096/);
  });
});
