/**
 * commands/stdout-writer.ts ByteWriter.copyWithin (ls --json writes each name once and
 * copies it for the second field): the copy is made only while the bytes are still in
 * the buffer; after a flush it declines and the caller writes the text again. The file
 * written must hold exactly the text a plain string join gives.
 */
import { describe, expect, it } from 'vitest';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ByteWriter } from '../src/commands/stdout-writer.js';

describe('ByteWriter.copyWithin', () => {
  it('copies bytes still in the buffer, declines after a flush, and the output equals the joined text', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-bytewriter-'));
    try {
      const path = join(dir, 'out.txt');
      const fd = openSync(path, 'w');
      // A tiny threshold: maybeFlush empties the buffer every few entries.
      const out = new ByteWriter(fd, 64);
      const expected: string[] = [];
      let copied = 0;
      let declined = 0;
      for (let i = 0; i < 200; i++) {
        const name = `näme-${i}-${'x'.repeat(i % 50)}`;
        out.maybeFlush();
        const flushes = out.flushes;
        const start = out.position;
        out.jsonChars(name);
        const end = out.position;
        out.ascii('|');
        // Every few entries, flush between writing and copying: the copy must be refused.
        if (i % 7 === 0) out.flush();
        if (out.copyWithin(start, end, flushes)) copied++;
        else {
          declined++;
          out.jsonChars(name);
        }
        out.ascii('\n');
        expected.push(`${JSON.stringify(name).slice(1, -1)}|${JSON.stringify(name).slice(1, -1)}\n`);
      }
      out.flush();
      closeSync(fd);
      expect(readFileSync(path, 'utf8')).toBe(expected.join(''));
      expect(copied).toBeGreaterThan(0);
      expect(declined).toBeGreaterThanOrEqual(Math.ceil(200 / 7));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
