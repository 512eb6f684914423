import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { closeCartridgeFile, createCartridgeFile, openCartridgeFile } from '../../src/engine/cartridge/cartridge-file.js';
import { PageRunBuffer } from '../../src/engine/cartridge/page-run-buffer.js';
import { patternBytes, scratchDir } from './scratch.js';

const nextPath = scratchDir('pager-io');
const PAGE = 4096;

describe('PageRunBuffer', () => {
  it('tracks one run of consecutive pages and refuses what does not extend it', () => {
    const run = new PageRunBuffer(PAGE, 4 * PAGE);
    expect(run.capacityPages).toBe(4);
    run.reset(10, 0);
    run.append(patternBytes(2 * PAGE, 1));
    expect(run.contains(10, 2)).toBe(true);
    expect(run.contains(11, 2)).toBe(false);
    expect(run.overlaps(11, 5)).toBe(true);
    expect(run.overlaps(12, 1)).toBe(false);
    expect(run.appendable(12, 2)).toBe(true);
    expect(run.appendable(12, 3)).toBe(false); // past capacity
    expect(run.appendable(13, 1)).toBe(false); // not adjacent
    run.append(patternBytes(2 * PAGE, 2));
    const out = new Uint8Array(2 * PAGE);
    run.copyOut(11, 2, out);
    expect(Buffer.compare(out.subarray(0, PAGE), patternBytes(2 * PAGE, 1).subarray(PAGE))).toBe(0);
    expect(Buffer.compare(out.subarray(PAGE), patternBytes(2 * PAGE, 2).subarray(0, PAGE))).toBe(0);
    expect(() => run.append(new Uint8Array(PAGE))).toThrow();
  });
});

describe('pager write combining and read-ahead', () => {
  it('combines consecutive page writes into few pwrites and reads back the written bytes, before and after a sync', () => {
    const file = createCartridgeFile(nextPath());
    const pager = file.pager;
    pager.combineWrites = true;
    const model = new Map<number, Uint8Array>();
    const start = pager.allocatePages(300);
    const callsBefore = pager.writeCalls;
    for (let i = 0; i < 300; i++) {
      const page = patternBytes(PAGE, 1000 + i);
      pager.writeRaw(start + i, page);
      model.set(start + i, page);
    }
    // Reading a page still in memory writes the run out first.
    expect(Buffer.compare(pager.readRaw(start + 7), model.get(start + 7)!)).toBe(0);
    expect(pager.writeCalls - callsBefore).toBeLessThan(10);
    // Overwrite a page the read-ahead window holds: the next read sees the new bytes.
    const replaced = patternBytes(PAGE, 5);
    pager.writeRaw(start + 8, replaced);
    model.set(start + 8, replaced);
    expect(Buffer.compare(pager.readRaw(start + 8), replaced)).toBe(0);
    pager.sync();
    const disk = readFileSync(file.path);
    for (const [address, bytes] of model) expect(Buffer.compare(disk.subarray(address * PAGE, (address + 1) * PAGE), bytes)).toBe(0);
    closeCartridgeFile(file);
  });

  it('serves neighbouring small reads from one read-ahead window and reads large runs directly', () => {
    const file = createCartridgeFile(nextPath());
    const start = file.pager.allocatePages(64);
    const data = patternBytes(64 * PAGE, 9);
    file.pager.writeRaw(start, data);
    file.pager.sync();
    // The pager alone: closeCartridgeFile cuts pages no commit names, and these 64 were never committed.
    file.pager.close();
    const { pager } = openCartridgeFile(file.path);
    pager.space.pageCount = start + 64;
    // At most the first read is exact (until the pattern looks sequential); then one window serves the rest.
    for (let i = 0; i < 16; i++) expect(Buffer.compare(pager.readRaw(start + i), data.subarray(i * PAGE, (i + 1) * PAGE))).toBe(0);
    expect(pager.readCalls).toBeLessThanOrEqual(2);
    let calls = pager.readCalls;
    const big = pager.readRaw(start, 64);
    expect(Buffer.compare(big, data)).toBe(0);
    expect(pager.readCalls).toBe(calls + 1);
    // A read far from the previous one is exact, and a window still serves its own pages.
    calls = pager.readCalls;
    expect(Buffer.compare(pager.readRaw(start + 40), data.subarray(40 * PAGE, 41 * PAGE))).toBe(0);
    expect(pager.readCalls).toBe(calls + 1);
    expect(Buffer.compare(pager.readRaw(start + 3), data.subarray(3 * PAGE, 4 * PAGE))).toBe(0);
    expect(pager.readCalls).toBe(calls + 1);
    pager.close();
  });

  it('a bare pager writes through, so another handle sees each write at once', () => {
    const file = createCartridgeFile(nextPath());
    const start = file.pager.allocatePages(1);
    const page = patternBytes(PAGE, 77);
    file.pager.writeRaw(start, page);
    expect(Buffer.compare(readFileSync(file.path).subarray(start * PAGE, (start + 1) * PAGE), page)).toBe(0);
    closeCartridgeFile(file);
  });

  it('pads a write that ends inside a page with zeros, combined or direct', () => {
    const file = createCartridgeFile(nextPath());
    const pager = file.pager;
    const start = pager.allocatePages(400);
    pager.writeRaw(start, patternBytes(400 * PAGE, 1)); // garbage first
    pager.combineWrites = true;
    const small = patternBytes(PAGE + 100, 2);
    const large = patternBytes(300 * PAGE + 5, 3);
    pager.writeRaw(start, small);
    pager.writeRaw(start + 10, large);
    pager.sync();
    const disk = readFileSync(file.path);
    const at = (page: number) => page * PAGE;
    expect(Buffer.compare(disk.subarray(at(start), at(start) + small.length), small)).toBe(0);
    expect(disk.subarray(at(start) + small.length, at(start + 2)).every((b) => b === 0)).toBe(true);
    expect(Buffer.compare(disk.subarray(at(start + 10), at(start + 10) + large.length), large)).toBe(0);
    expect(disk.subarray(at(start + 10) + large.length, at(start + 311)).every((b) => b === 0)).toBe(true);
    // The page after each padded write is untouched.
    expect(Buffer.compare(disk.subarray(at(start + 2), at(start + 3)), patternBytes(400 * PAGE, 1).subarray(2 * PAGE, 3 * PAGE))).toBe(0);
    closeCartridgeFile(file);
  });
});
