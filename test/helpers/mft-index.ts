/** Runs the indexer in-process on bytes and returns its JSONL rows, parsed. */
import { MemoryBlockSource } from '../../src/io/block-source.js';
import { indexMftSource } from '../../src/engine/ntfs/open-mft.js';
import { writeRows } from '../../src/engine/ntfs/format-rows.js';
import { jsonlFormatter } from '../../src/engine/ntfs/format-jsonl.js';
import type { ScanMftOptions } from '../../src/engine/ntfs/scan-mft.js';
import type { BuildOptions, RowOptions } from '../../src/engine/ntfs/mft-index.js';

export interface JsonRow {
  record: number;
  sequence: number;
  parent: number;
  path: string;
  name: string;
  size: number;
  allocated: number;
  isDir: boolean;
  deleted: boolean;
  flags: string[];
  si: Record<string, string> | null;
  fn: Record<string, string>;
  links: number;
  streams: { name: string; size: number }[];
}

export async function indexBytes(bytes: Uint8Array, rowOptions: RowOptions = {}, scan: ScanMftOptions & BuildOptions = {}) {
  const timed = await indexMftSource(new MemoryBlockSource(bytes), scan);
  const parts: Buffer[] = [];
  await writeRows(timed.index, rowOptions, jsonlFormatter, (b) => {
    parts.push(Buffer.from(b));
  });
  const text = Buffer.concat(parts).toString('utf8');
  const rows = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as JsonRow);
  return { ...timed, text, rows, byPath: new Map(rows.map((r) => [r.path, r])) };
}
