/**
 * `mft index -z TZ`: JSONL/CSV times in a time zone. GNU date (with TZ set) is the
 * oracle for every converted time; everything else in the rows must stay as the UTC
 * run wrote it, and hostile names that look like times must not be touched.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { diskkit } from './helpers/cli.js';
import { hasTool } from './helpers/oracle.js';
import { ZoneTimeRewriter } from '../src/engine/ntfs/format-zone.js';

const MFT = fileURLToPath(new URL('../fixtures/ntfs/small.mft', import.meta.url));
const TIME_KEYS = ['created', 'modified', 'mftModified', 'accessed'] as const;
type Row = Record<string, unknown> & { si: Record<string, string> | null; fn: Record<string, string> | null };

/** What GNU date says each UTC instant is in `zone`, as YYYY-MM-DDThh:mm:ss+hh:mm. */
function dateOracle(zone: string, isoTimes: string[]): Map<string, string> {
  const distinct = [...new Set(isoTimes)];
  const out = execFileSync('date', ['-f', '-', '+%Y-%m-%dT%H:%M:%S%:z'], { input: distinct.map((t) => t.replace(/\.\d+Z$/, 'Z')).join('\n') + '\n', env: { ...process.env, TZ: zone }, encoding: 'utf8' });
  const lines = out.trim().split('\n');
  return new Map(distinct.map((t, i) => [t, lines[i]!]));
}

describe.runIf(hasTool('date'))('mft index -z', () => {
  for (const zone of ['Europe/Berlin', 'America/New_York', 'Asia/Kolkata']) {
    it(`JSONL times in ${zone} are GNU date's, the fraction kept, the rest of each row unchanged`, async () => {
      const utc = await diskkit(['mft', 'index', '--deleted', MFT]);
      const zoned = await diskkit(['mft', 'index', '--deleted', '-z', zone, MFT]);
      expect(zoned.exitCode, zoned.stderr).toBe(0);
      const a = utc.stdout.split('\n').map((l) => JSON.parse(l) as Row);
      const b = zoned.stdout.split('\n').map((l) => JSON.parse(l) as Row);
      expect(b.length).toBe(a.length);
      const times = a.flatMap((r) => [r.si, r.fn].flatMap((t) => (t ? TIME_KEYS.map((k) => t[k]!) : []))).filter((t) => !t.startsWith('1601-01-01T00:00:00.0000000'));
      expect(times.length).toBeGreaterThan(100);
      const oracle = dateOracle(zone, times);
      for (let i = 0; i < a.length; i++) {
        const expected = structuredClone(a[i]!);
        for (const section of [expected.si, expected.fn]) {
          if (!section) continue;
          for (const k of TIME_KEYS) {
            const t = section[k]!;
            if (t.startsWith('1601-01-01T00:00:00.0000000')) continue;
            const local = oracle.get(t)!;
            section[k] = `${local.slice(0, 19)}.${t.slice(20, 27)}${local.slice(19)}`;
          }
        }
        expect(b[i]).toEqual(expected);
      }
    });
  }

  it('CSV: only the si.* and fn.* columns change, also for quoted names that look like times, across chunk edges', () => {
    const header = 'record,path,name,si.created,fn.created\n';
    const row1 = '7,"/a,2001-09-09T01:46:40.0000000Z,b","2001-09-09T01:46:40.0000000Z",2001-09-09T01:46:40.1234567Z,2001-01-01T00:00:00.0000000Z\n';
    const row2 = '8,/x,2001-09-09T01:46:40.0000000Z,1601-01-01T00:00:00.0000000Z,2001-09-09T01:46:40.0000000Z\n';
    const text = header + row1 + row2;
    const rw = new ZoneTimeRewriter('csv', 'Europe/Berlin');
    let out = '';
    // fed in 7-byte pieces: lines are split across pushes
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += 7) out += rw.push(bytes.subarray(i, i + 7)).toString();
    out += rw.end().toString();
    expect(out).toBe(
      header +
        '7,"/a,2001-09-09T01:46:40.0000000Z,b","2001-09-09T01:46:40.0000000Z",2001-09-09T03:46:40.1234567+02:00,2001-01-01T01:00:00.0000000+01:00\n' +
        '8,/x,2001-09-09T01:46:40.0000000Z,1601-01-01T00:00:00.0000000Z,2001-09-09T03:46:40.0000000+02:00\n',
    );
  });

  it('an unknown zone is a usage error; bodyfile rows are Unix seconds and do not change', async () => {
    const bad = await diskkit(['mft', 'index', '-z', 'Mars/Olympus', MFT]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/^diskkit: .*unknown time zone 'Mars\/Olympus'/m);
    const plain = await diskkit(['mft', 'index', '--format', 'bodyfile', MFT]);
    const zoned = await diskkit(['mft', 'index', '--format', 'bodyfile', '-z', 'Asia/Tokyo', MFT]);
    expect(zoned.stdout).toBe(plain.stdout);
  });
});
