/**
 * `mft index --format parquet` read back by an independent reader (DuckDB, through
 * @duckdb/node-api; diskkit writes with parquet-wasm): every row and every column's
 * type equals the JSONL output — for the shipped MFT fixture, for volumes made by
 * mkntfs + ntfs-3g (fixtures/make-ntfs-fixtures.sh), and for a file of several row
 * groups. Times are compared at the microsecond (the documented Parquet precision:
 * FILETIME's 100 ns digit is dropped, rounded down).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { diskkit as runCli } from './helpers/cli.js';
import { requireTools } from './helpers/oracle.js';
import { openMftSource, indexMftSource } from '../src/engine/ntfs/open-mft.js';
import { writeParquetFile } from '../src/engine/ntfs/format-parquet.js';
import { buildDump, dirRecord, fileRecord } from './helpers/mft-builder.js';
import { writeFileSync } from 'node:fs';

const SHIPPED = fileURLToPath(new URL('../fixtures/ntfs/small.mft', import.meta.url));
const SCRIPT = fileURLToPath(new URL('../fixtures/make-ntfs-fixtures.sh', import.meta.url));
const diskkit = (args: string[], options: Parameters<typeof runCli>[1] = {}) => runCli(args, { stripFinalNewline: false, ...options });
let dir = '';
let db: DuckDBConnection;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'diskkit-parquet-'));
  db = await (await DuckDBInstance.create(':memory:')).connect();
});

const EXPECTED_TYPES = [
  ['source', 'VARCHAR'], ['record', 'UINTEGER'], ['sequence', 'UINTEGER'], ['parent', 'BIGINT'], ['path', 'VARCHAR'], ['name', 'VARCHAR'],
  ['size', 'BIGINT'], ['allocated', 'BIGINT'], ['isDir', 'BOOLEAN'], ['deleted', 'BOOLEAN'], ['flags', 'VARCHAR[]'],
  ...['si', 'fn'].flatMap((p) => ['created', 'modified', 'mftModified', 'accessed'].map((t) => [`${p}_${t}`, 'TIMESTAMP WITH TIME ZONE'])),
  ['links', 'UINTEGER'], ['streams', 'STRUCT("name" VARCHAR, size BIGINT)[]'],
];
const TIME_KEYS = ['created', 'modified', 'mftModified', 'accessed'] as const;

/** Microseconds since 1970 of a JSONL time ("…T…:…:…​.1234567Z"), rounded down, as text. */
function isoToMicros(iso: string): string {
  const m = /^(.{19})\.(\d{7})Z$/.exec(iso);
  if (!m) throw new Error(`unexpected time ${iso}`);
  return String(BigInt(Date.parse(m[1]! + 'Z')) * 1000n + BigInt(m[2]!.slice(0, 6)));
}

type JsonlTimes = Record<(typeof TIME_KEYS)[number], string>;
interface JsonlRow {
  record: number; sequence: number; parent: number; path: string; name: string; size: number; allocated: number;
  isDir: boolean; deleted: boolean; flags: string[]; si: JsonlTimes | null; fn: JsonlTimes; links: number; streams: { name: string; size: number }[];
}

/** A JSONL row as DuckDB returns the Parquet row (getRowObjectsJson: 64-bit integers and times as text). */
function expectedRow(source: string, r: JsonlRow): Record<string, unknown> {
  const row: Record<string, unknown> = {
    source, record: r.record, sequence: r.sequence, parent: String(r.parent), path: r.path, name: r.name,
    size: String(r.size), allocated: String(r.allocated), isDir: r.isDir, deleted: r.deleted, flags: r.flags,
  };
  for (const k of TIME_KEYS) row[`si_${k}`] = r.si ? isoToMicros(r.si[k]) : null;
  for (const k of TIME_KEYS) row[`fn_${k}`] = isoToMicros(r.fn[k]);
  row.links = r.links;
  row.streams = r.streams.map((s) => ({ name: s.name, size: String(s.size) }));
  return row;
}

async function parquetRows(file: string): Promise<Record<string, unknown>[]> {
  const times = ['si', 'fn'].flatMap((p) => TIME_KEYS.map((k) => `epoch_us(${p}_${k}) AS ${p}_${k}`)).join(', ');
  const reader = await db.runAndReadAll(`SELECT source, record, sequence, parent, path, name, size, allocated, isDir, deleted, flags, ${times}, links, streams FROM read_parquet('${file}')`);
  return reader.getRowObjectsJson() as Record<string, unknown>[];
}

async function columnTypes(file: string): Promise<string[][]> {
  const reader = await db.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`);
  return (reader.getRowObjectsJson() as { column_name: string; column_type: string }[]).map((c) => [c.column_name, c.column_type]);
}

async function expectSameAsJsonl(source: string, extra: string[]): Promise<number> {
  const out = join(dir, `${Math.random().toString(36).slice(2)}.parquet`);
  const p = await diskkit(['mft', 'index', source, '--format', 'parquet', '--out', out, ...extra]);
  expect(p.exitCode, p.stderr).toBe(0);
  const j = await diskkit(['mft', 'index', source, '--format', 'jsonl', ...extra]);
  const expected = j.stdout.trim().split('\n').map((l) => expectedRow(source, JSON.parse(l) as JsonlRow));
  expect(await columnTypes(out)).toEqual(EXPECTED_TYPES);
  expect(await parquetRows(out)).toEqual(expected);
  return expected.length;
}

describe('mft index --format parquet', () => {
  it.each([[[]], [['--deleted', '--streams']]])('the shipped MFT fixture %j: every row and type equals the JSONL output', async (extra) => {
    expect(await expectSameAsJsonl(SHIPPED, extra)).toBeGreaterThan(700);
  });

  it('is Snappy-compressed with statistics, in one row group for a small index', async () => {
    const out = join(dir, 'meta.parquet');
    expect((await diskkit(['mft', 'index', SHIPPED, '--format', 'parquet', '--out', out])).exitCode).toBe(0);
    const meta = (await db.runAndReadAll(`SELECT row_group_id, path_in_schema, compression, stats_min_value, stats_max_value FROM parquet_metadata('${out}')`)).getRowObjectsJson() as Record<string, string | null>[];
    expect(new Set(meta.map((m) => m.compression))).toEqual(new Set(['SNAPPY']));
    expect(new Set(meta.map((m) => m.row_group_id))).toEqual(new Set(['0']));
    const record = meta.find((m) => m.path_in_schema === 'record')!;
    const jsonl = (await diskkit(['mft', 'index', SHIPPED])).stdout.trim().split('\n').map((l) => (JSON.parse(l) as JsonlRow).record);
    expect([record.stats_min_value, record.stats_max_value]).toEqual([String(Math.min(...jsonl)), String(Math.max(...jsonl))]);
  });

  it('writes several row groups when the rows pass the row-group size, with the same rows', async () => {
    const source = await openMftSource(SHIPPED);
    const out = join(dir, 'groups.parquet');
    try {
      const { index } = await indexMftSource(source);
      const totals = await writeParquetFile(index, { deleted: true, streams: true }, SHIPPED, out, { rowGroupRows: 100, batchRows: 64 });
      const groups = (await db.runAndReadAll(`SELECT row_group_id, max(row_group_num_rows) AS n FROM parquet_metadata('${out}') GROUP BY ALL ORDER BY row_group_id`)).getRowObjectsJson() as { n: string }[];
      expect(groups.length).toBe(Math.ceil(totals.rows / 100));
      expect(groups.slice(0, -1).every((g) => g.n === '100')).toBe(true);
    } finally {
      source.close();
    }
    const j = await diskkit(['mft', 'index', SHIPPED, '--deleted', '--streams']);
    expect(await parquetRows(out)).toEqual(j.stdout.trim().split('\n').map((l) => expectedRow(SHIPPED, JSON.parse(l) as JsonlRow)));
  });

  it('a name with a lone UTF-16 surrogate gets U+FFFD in Parquet (UTF-8 strings), where JSONL keeps the escape', async () => {
    const dump = join(dir, 'surrogate.mft');
    writeFileSync(dump, buildDump(new Map([[16, dirRecord('d', 5)], [17, fileRecord('bad\ud800x.txt', 16)]]), 32));
    const out = join(dir, 'surrogate.parquet');
    expect((await diskkit(['mft', 'index', dump, '--format', 'parquet', '--out', out])).exitCode).toBe(0);
    const j = await diskkit(['mft', 'index', dump]);
    expect(j.stdout).toContain('"path":"/d/bad\\ud800x.txt"');
    const rows = (await db.runAndReadAll(`SELECT path, name FROM '${out}' WHERE record = 17`)).getRowObjectsJson();
    expect(rows).toEqual([{ path: '/d/bad\ufffdx.txt', name: 'bad\ufffdx.txt' }]);
  });

  it('leaves no .parquet file when the source is unusable; a redirected stdout gets the same file as --out', async () => {
    const outDir = mkdtempSync(join(dir, 'failed-'));
    const r = await diskkit(['mft', 'index', join(dir, 'no-such.mft'), '--format', 'parquet', '--out', join(outDir, 'x.parquet')]);
    expect(r.exitCode).toBe(1);
    expect(readdirSync(outDir)).toEqual([]);
    const viaOut = join(dir, 'shipped-out.parquet');
    expect((await diskkit(['mft', 'index', SHIPPED, '--format', 'parquet', '--out', viaOut])).exitCode).toBe(0);
    const viaStdout = join(dir, 'shipped-stdout.parquet');
    const u = await diskkit(['mft', 'index', SHIPPED, '--format', 'parquet'], { stdout: { file: viaStdout } });
    expect(u.exitCode, u.stderr).toBe(0);
    const rows = async (file: string) => (await db.runAndReadAll(`SELECT * FROM '${file}' ORDER BY record, path`)).getRowObjectsJson();
    const expected = await rows(viaOut);
    expect(expected.length).toBe((await diskkit(['mft', 'index', SHIPPED])).stdout.trim().split('\n').length);
    expect(await rows(viaStdout)).toEqual(expected);
  });

  it('per-source Parquet files in --out-dir are read together as DIR/*.parquet, each row with its source', async () => {
    const outDir = join(dir, 'fleet');
    const r = await diskkit(['mft', 'index', SHIPPED, SHIPPED, '--format', 'parquet', '--out-dir', outDir]);
    expect(r.exitCode, r.stderr).toBe(0);
    const counts = (await db.runAndReadAll(`SELECT filename, count(*) AS n, count(DISTINCT source) AS s FROM read_parquet('${outDir}/*.parquet', filename = true) GROUP BY ALL ORDER BY filename`)).getRowObjectsJson();
    const rows = (await diskkit(['mft', 'index', SHIPPED])).stdout.trim().split('\n').length;
    expect(counts).toEqual([
      { filename: join(outDir, 'small.mft-2.parquet'), n: String(rows), s: '1' },
      { filename: join(outDir, 'small.mft.parquet'), n: String(rows), s: '1' },
    ]);
  });
});

const tools = requireTools('mkntfs', 'ntfs-3g', 'icat');

describe.runIf(tools)('mft index --format parquet on volumes made by mkntfs + ntfs-3g', () => {
  let ntfs = '';
  beforeAll(() => {
    ntfs = mkdtempSync(join(tmpdir(), 'diskkit-parquet-ntfs-'));
    execFileSync(SCRIPT, [ntfs, 'all'], { stdio: 'ignore' });
  }, 180_000);

  it.each(['small.ntfs', 'small.mft', '4k.ntfs'])('%s: every row and type equals the JSONL output (with deleted files and streams)', async (name) => {
    expect(existsSync(join(ntfs, name))).toBe(true);
    expect(await expectSameAsJsonl(join(ntfs, name), ['--deleted', '--streams'])).toBeGreaterThan(700);
  });
});
