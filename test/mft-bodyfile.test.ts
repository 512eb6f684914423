/**
 * `mft index --format bodyfile` against The Sleuth Kit on a real NTFS volume
 * (fixtures/make-ntfs-fixtures.sh: mkntfs + ntfs-3g, with deleted files, hard links
 * and alternate data streams): the lines equal `fls -r -m / -p` except for the
 * documented differences (README, "mft index"), mactime reads the file, and every
 * inode field can be handed to icat as it is.
 *
 * Documented differences, normalised here and nowhere else:
 * - fls writes UID/GID from $STANDARD_INFORMATION's owner id; diskkit writes 0|0.
 * - fls gives a directory the size of its index root; diskkit 0.
 * - fls adds the virtual /$OrphanFiles and the named index roots of metadata files
 *   (`$Secure:$SDH`, `$Extend/$Quota:$O`, type 144); diskkit lists the root `/` and
 *   each metadata file without an unnamed $DATA as a line of its own (bare record number).
 * - a FILETIME of 0: fls writes 3373865674, diskkit 0.
 * - hard links: fls repeats one $FILE_NAME for every link; diskkit writes each link's own.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireTools } from './helpers/oracle.js';
import { diskkit } from './helpers/cli.js';

const tools = requireTools('mkntfs', 'ntfs-3g', 'icat', 'fls', 'mactime');
const script = fileURLToPath(new URL('../fixtures/make-ntfs-fixtures.sh', import.meta.url));
let image = '';
let dir = '';

const fields = (line: string) => line.split('|');

/** fls -m lines with the documented differences taken out. */
function normaliseFls(text: string): string[] {
  return text.split('\n').filter((l) => l !== '').flatMap((line) => {
    const f = fields(line);
    const [name, inode] = [f[1]!, f[2]!];
    if (name.startsWith('/$OrphanFiles')) return [];
    if (/-144-/.test(inode) && /:\$/.test(name)) return []; // named index roots of metadata files
    f[4] = '0';
    f[5] = '0';
    if (/-144-/.test(inode) && !name.includes('($FILE_NAME)')) f[6] = '0';
    if (f.slice(7).every((t) => t === '3373865674')) f.splice(7, 4, '0', '0', '0', '0');
    return [f.join('|')];
  });
}

describe.runIf(tools)('mft index --format bodyfile against fls -m and mactime', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'diskkit-body-'));
    execFileSync(script, [dir, 'small'], { stdio: 'ignore' });
    image = join(dir, 'small.ntfs');
  }, 120_000);

  it('equals fls -r -m / -p --deleted with streams, but for the documented differences', async () => {
    const r = await diskkit(['mft', 'index', image, '--format', 'bodyfile', '--deleted', '--streams']);
    expect(r.exitCode, r.stderr).toBe(0);
    const ours = r.stdout.split('\n').filter((l) => l !== '');
    const fls = normaliseFls(execFileSync('fls', ['-r', '-m', '/', '-p', image], { encoding: 'utf8', maxBuffer: 1 << 26 }));
    const oursSet = new Set(ours);
    const flsSet = new Set(fls);
    const onlyFls = fls.filter((l) => !oursSet.has(l));
    const onlyOurs = ours.filter((l) => !flsSet.has(l));
    // fls repeats one $FILE_NAME for every hard link: those lines differ in inode id and size only
    const links = (ls: string[]) => ls.filter((l) => l.startsWith('0|/links/') && l.includes('($FILE_NAME)')).map((l) => fields(l)[1]).sort();
    expect(links(onlyFls)).toEqual(links(onlyOurs));
    expect(onlyFls.filter((l) => !(l.startsWith('0|/links/') && l.includes('($FILE_NAME)')))).toEqual([]);
    const extra = onlyOurs.filter((l) => !(l.startsWith('0|/links/') && l.includes('($FILE_NAME)'))).map((l) => `${fields(l)[1]}|${fields(l)[2]}`).sort();
    expect(extra).toEqual(['/ ($FILE_NAME)|5-48-1', '/$Extend/$ObjId|25', '/$Extend/$Quota|24', '/$Extend/$Reparse|26', '/$Secure|9', '/|5-144-3'].sort());
    // the deleted ones are there, marked as TSK marks them
    expect(ours).toContainEqual(expect.stringMatching(/^0\|\/deleted-at-root\.txt \(deleted\)\|\d+-128-\d+\|-\/rrwxrwxrwx\|/));
    expect(ours).toContainEqual(expect.stringMatching(/^0\|\/trash\/sub \(\$FILE_NAME\) \(deleted\)\|\d+-48-\d+\|-\/drwxrwxrwx\|/));
    // no FILETIME of 0 becomes 1601
    expect(ours.some((l) => l.includes('-11644473600'))).toBe(false);
  });

  it('mactime reads it, and each inode field goes to icat as it is', async () => {
    const r = await diskkit(['mft', 'index', image, '--format', 'bodyfile', '--deleted', '--streams', '--out', join(dir, 'ours.body')]);
    expect(r.exitCode, r.stderr).toBe(0);
    const timeline = execFileSync('mactime', ['-b', join(dir, 'ours.body'), '-d', '-y', '-z', 'UTC'], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const rows = timeline.split('\n').slice(1).filter((l) => l !== '');
    expect(rows.some((l) => l.endsWith(',"/deleted-at-root.txt (deleted)"'))).toBe(true);
    expect(rows.some((l) => l.endsWith(',"/ads.txt:secret"'))).toBe(true);
    const body = execFileSync('cat', [join(dir, 'ours.body')], { encoding: 'utf8' }).split('\n');
    const inodeOf = (name: string) => fields(body.find((l) => fields(l)[1] === name)!)[2]!;
    expect(execFileSync('icat', [image, inodeOf('/ads.txt:secret')], { encoding: 'utf8' })).toBe('hidden stream\n');
    expect(execFileSync('icat', [image, inodeOf('/ads.txt')], { encoding: 'utf8' })).toBe('main\n');
    expect(execFileSync('icat', [image, inodeOf('/deleted-at-root.txt (deleted)')], { encoding: 'utf8' })).toBe('gone too\n');
  });
});
