/**
 * `ls -R IMAGE --format jsonl|csv|parquet` (issue 13): the inventory of a volume as
 * a table. The rows are checked against each fixture's manifest (written from the
 * host tree mkfs.fat + mcopy filled the image from), CSV and Parquet (read back by
 * DuckDB) against the JSONL rows, and the selection and errors against `ls`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { diskkit as runCli } from './helpers/cli.js';
import { requireTools } from './helpers/oracle.js';
import { walkVolume } from '../src/engine/walk.js';
import { createListingWriter } from '../src/engine/listing/index.js';
import type { EntryInfo, Volume } from '../src/engine/volume.js';

interface Row { path: string; name: string; shortName: string | null; type: 'file' | 'dir'; size: number; mtime: string | null; ctime: string | null; atime: string | null; attributes: string[]; deleted: boolean }
interface ManifestEntry { path: string; type: 'file' | 'dir'; size: number; mtime: string; attributes?: string[] }

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const ENV = { TZ: 'UTC', LC_ALL: 'C.UTF-8' };
const diskkit = (args: string[]) => runCli(args, { env: ENV, stripFinalNewline: false });
const generated = requireTools('mkfs.fat', 'mcopy');
const IMAGES = [['fat12', true], ['fat16', generated], ['fat32', generated]] as const;
const byPath = (a: { path: string }, b: { path: string }): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
let dir = '';
let db: DuckDBConnection;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'diskkit-ls-export-'));
  db = await (await DuckDBInstance.create(':memory:')).connect();
});

function imagePath(name: string): string {
  return name === 'fat12' ? join(FIXTURES, 'fat12.img') : join(FIXTURES, 'generated', `${name}.img`);
}

/** RFC 4180 records (quoted fields may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') field += text[i++];
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += c;
  }
  return records;
}

describe.each(IMAGES)('ls -R %s --format', (name, available) => {
  let rows: Row[] = [];
  beforeAll(async () => {
    if (!available) return;
    const r = await diskkit(['ls', '-R', '-a', imagePath(name), '--format', 'jsonl']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Row);
  });

  it.runIf(available)('jsonl: one row per manifest entry, with its type, size, mtime (to FAT 2 s) and attributes', () => {
    const manifest = JSON.parse(readFileSync(join(FIXTURES, `${name}.manifest.json`), 'utf8')) as { entries: ManifestEntry[] };
    expect(rows.map((r) => ({ path: r.path, type: r.type, size: r.size })).sort(byPath)).toEqual(manifest.entries.map((e) => ({ path: e.path, type: e.type, size: e.size })));
    const byPathMap = new Map(manifest.entries.map((e) => [e.path, e]));
    for (const r of rows) {
      const e = byPathMap.get(r.path)!;
      expect(r.name).toBe(r.path.slice(r.path.lastIndexOf('/') + 1));
      expect(r.deleted).toBe(false);
      if (r.type === 'file') {
        const lag = Date.parse(e.mtime) - Date.parse(r.mtime!);
        expect(lag >= 0 && lag < 2000, `${r.path}: ${r.mtime} vs ${e.mtime}`).toBe(true);
      }
      for (const a of e.attributes ?? []) expect(r.attributes, r.path).toContain(a);
    }
  });

  it.runIf(available)('csv: the same rows, attributes joined with |', async () => {
    const r = await diskkit(['ls', '-R', '-a', imagePath(name), '--format', 'csv']);
    expect(r.exitCode).toBe(0);
    const [header, ...records] = parseCsv(r.stdout);
    expect(header).toEqual(['path', 'name', 'shortName', 'type', 'size', 'mtime', 'ctime', 'atime', 'attributes', 'deleted']);
    expect(records).toEqual(rows.map((x) => [x.path, x.name, x.shortName ?? '', x.type, String(x.size), x.mtime ?? '', x.ctime ?? '', x.atime ?? '', x.attributes.join('|'), String(x.deleted)]));
  });

  it.runIf(available)('parquet: the same rows and typed columns, read back by DuckDB', async () => {
    const out = join(dir, `${name}.parquet`);
    const r = await diskkit(['ls', '-R', '-a', imagePath(name), '--format', 'parquet', '--out', out]);
    expect(r.exitCode, r.stderr).toBe(0);
    const types = (await db.runAndReadAll(`DESCRIBE SELECT * FROM '${out}'`)).getRowObjectsJson().map((c) => [c.column_name, c.column_type]);
    expect(types).toEqual([['path', 'VARCHAR'], ['name', 'VARCHAR'], ['shortName', 'VARCHAR'], ['type', 'VARCHAR'], ['size', 'BIGINT'], ['mtime', 'TIMESTAMP WITH TIME ZONE'], ['ctime', 'TIMESTAMP WITH TIME ZONE'], ['atime', 'TIMESTAMP WITH TIME ZONE'], ['attributes', 'VARCHAR[]'], ['deleted', 'BOOLEAN']]);
    const back = (await db.runAndReadAll(`SELECT path, name, shortName, type, size, epoch_ms(mtime) AS mtime, epoch_ms(ctime) AS ctime, epoch_ms(atime) AS atime, attributes, deleted FROM '${out}'`)).getRowObjectsJson();
    const ms = (iso: string | null): string | null => (iso === null ? null : String(Date.parse(iso)));
    expect(back).toEqual(rows.map((x) => ({ ...x, size: String(x.size), mtime: ms(x.mtime), ctime: ms(x.ctime), atime: ms(x.atime) })));
  });
});

describe('ls --format: selection and errors', () => {
  const fat12 = imagePath('fat12');

  it('without -a leaves hidden and system entries out, as ls does; without -R lists one directory', async () => {
    const ls = await runCli(['ls', '-R', '--json', fat12], { env: ENV });
    const table = await diskkit(['ls', '-R', fat12, '--format', 'jsonl']);
    expect(table.stdout.trim().split('\n').map((l) => (JSON.parse(l) as Row).path)).toEqual((JSON.parse(ls.stdout) as Row[]).map((e) => e.path));
    const top = await diskkit(['ls', `${fat12}:/frag`, '--format', 'jsonl']);
    expect(top.stdout.trim().split('\n').every((l) => (JSON.parse(l) as Row).path.startsWith('/frag/'))).toBe(true);
  });

  it('--deleted adds deleted entries with deleted: true', async () => {
    const r = await diskkit(['ls', '-R', '--deleted', `${fat12}:/frag`, '--format', 'jsonl']);
    expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Row).filter((x) => x.deleted).length).toBeGreaterThan(0);
  });

  it('parquet to a redirected stdout equals the --out file; an unknown format is a usage error, and a failed run leaves no file', async () => {
    const viaOut = join(dir, 'via-out.parquet');
    expect((await diskkit(['ls', '-R', fat12, '--format', 'parquet', '--out', viaOut])).exitCode).toBe(0);
    const viaStdout = join(dir, 'via-stdout.parquet');
    const piped = await runCli(['ls', '-R', fat12, '--format', 'parquet'], { env: ENV, stdout: { file: viaStdout } });
    expect(piped.exitCode, piped.stderr).toBe(0);
    const query = (file: string) => db.runAndReadAll(`SELECT * EXCLUDE (mtime, ctime, atime), epoch_ms(mtime) AS m FROM '${file}' ORDER BY path`).then((r) => r.getRowObjectsJson());
    const rows = await query(viaOut);
    expect(rows.length).toBeGreaterThan(5);
    expect(await query(viaStdout)).toEqual(rows);
    const bad = await diskkit(['ls', '-R', fat12, '--format', 'xml']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--format takes jsonl, csv, parquet/);
    const outDir = mkdtempSync(join(dir, 'failed-'));
    const r = await diskkit(['ls', '-R', join(dir, 'missing.img'), '--format', 'parquet', '--out', join(outDir, 'x.parquet')]);
    expect(r.exitCode).toBe(1);
    expect(readdirSync(outDir)).toEqual([]);
    expect(existsSync(join(outDir, 'x.parquet'))).toBe(false);
  });
});

describe.runIf(requireTools('mkfs.fat', 'mcopy'))('ls --format: FAT creation and access times', () => {
  it('ctime (with its 10 ms units) and atime (a date) come from the entry\'s own fields, apart from mtime', async () => {
    const img = join(dir, 'times.img');
    execFileSync('mkfs.fat', ['-C', img, '1440'], { stdio: 'ignore' });
    const host = join(dir, 'times.txt');
    writeFileSync(host, 'x');
    utimesSync(host, new Date('2020-01-02T03:04:06Z'), new Date('2020-01-02T03:04:06Z'));
    execFileSync('mcopy', ['-m', '-i', img, host, '::/TIMES.TXT'], { env: { ...process.env, TZ: 'UTC' } });
    // Set the creation and access fields by hand (FAT spec encoding: date = (year-1980)<<9 | month<<5 | day,
    // time = hour<<11 | minute<<5 | seconds/2, tenths = 10 ms units 0..199).
    const bytes = readFileSync(img);
    const at = bytes.indexOf(Buffer.from('TIMES   TXT', 'latin1'));
    expect(at).toBeGreaterThan(0);
    const date = (y: number, m: number, d: number) => ((y - 1980) << 9) | (m << 5) | d;
    bytes[at + 13] = 157; // 1.57 s
    bytes.writeUInt16LE((13 << 11) | (14 << 5) | (20 / 2), at + 14);
    bytes.writeUInt16LE(date(2019, 11, 12), at + 16);
    bytes.writeUInt16LE(date(2021, 6, 7), at + 18);
    writeFileSync(img, bytes);
    const r = await diskkit(['ls', img, '--format', 'jsonl']);
    expect(r.exitCode, r.stderr).toBe(0);
    const row = JSON.parse(r.stdout.trim()) as Row;
    expect({ mtime: row.mtime, ctime: row.ctime, atime: row.atime }).toEqual({
      mtime: '2020-01-02T03:04:06.000Z',
      ctime: '2019-11-12T13:14:21.570Z',
      atime: '2021-06-07T00:00:00.000Z',
    });
    const csv = parseCsv((await diskkit(['ls', img, '--format', 'csv'])).stdout);
    expect(csv[1]!.slice(5, 8)).toEqual(['2020-01-02T03:04:06.000Z', '2019-11-12T13:14:21.570Z', '2021-06-07T00:00:00.000Z']);
  });
});

describe('the listing writer over the Volume interface', () => {
  it('lists a format that has only Volume.list (no walk) the same way: any volume gets the table', async () => {
    const at = (iso: string): Date => new Date(iso);
    const tree: Record<string, EntryInfo[]> = {
      '/': [
        { path: '/docs', name: 'docs', shortName: null, type: 'dir', size: 0, mtime: at('2024-05-01T10:00:00Z'), ctime: at('2024-04-30T09:00:00Z'), atime: at('2024-05-03T00:00:00Z'), attributes: ['dir'] },
        { path: '/a,b.txt', name: 'a,b.txt', shortName: null, type: 'file', size: 5, mtime: null, ctime: null, atime: null, attributes: [] },
      ],
      '/docs': [{ path: '/docs/x.bin', name: 'x.bin', shortName: null, type: 'file', size: 7, mtime: at('2024-05-02T11:30:00Z'), ctime: null, atime: null, attributes: ['readonly'] }],
    };
    const fake = { list: (p: string | EntryInfo) => tree[typeof p === 'string' ? p : p.path] ?? [] } as unknown as Volume;
    const chunks: Uint8Array[] = [];
    const writer = createListingWriter('jsonl', (b) => chunks.push(b));
    walkVolume(fake, '/', { recursive: true }, { directory() {}, entry: (e) => (writer.entry(e), e.type === 'dir'), error: (_p, _d, e) => { throw e; } });
    await writer.finish();
    expect(Buffer.concat(chunks).toString().trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { path: '/docs', name: 'docs', shortName: null, type: 'dir', size: 0, mtime: '2024-05-01T10:00:00.000Z', ctime: '2024-04-30T09:00:00.000Z', atime: '2024-05-03T00:00:00.000Z', attributes: ['dir'], deleted: false },
      { path: '/a,b.txt', name: 'a,b.txt', shortName: null, type: 'file', size: 5, mtime: null, ctime: null, atime: null, attributes: [], deleted: false },
      { path: '/docs/x.bin', name: 'x.bin', shortName: null, type: 'file', size: 7, mtime: '2024-05-02T11:30:00.000Z', ctime: null, atime: null, attributes: ['readonly'], deleted: false },
    ]);
  });
});
