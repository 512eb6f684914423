/** NTFS's public surface: the format's registry entry (read-only volumes) and the MFT indexer. */
import type { FormatDefinition } from '../formats.js';
import { startsNtfsVolume } from './volume-probe.js';
import { NtfsVolume } from './ntfs-volume.js';

export const ntfsFormat: FormatDefinition = {
  name: 'ntfs',
  title: 'NTFS (read-only)',
  capabilities: ['read'],
  probe: (head) => head.length >= 512 && startsNtfsVolume(head.subarray(0, 512)),
  open: (source) => NtfsVolume.open(source),
};

export { NtfsVolume } from './ntfs-volume.js';
export { decompressLznt1 } from './lznt1.js';
export { decodeNtfsBootSector, isNtfsBootSector, type NtfsGeometry } from './boot-sector.js';
export { applyFixups, encodeFixups, FixupStatus } from './fixup.js';
export { MftRecordHeader, RecordFlag, RecordStatus, ROOT_RECORD } from './mft-record.js';
export { decodeDataRuns, encodeDataRuns, type DataRun } from './data-runs.js';
export { locateMft, type MftLayout } from './mft-source.js';
export { scanMft, type ScanMftOptions, type ScannedMft } from './scan-mft.js';
export { buildIndex, collectRows, forEachRow, type MftIndex, type Row, type RowRef, type RowOptions } from './mft-index.js';
export { writeRows, countRows, OUTPUT_FORMATS, type OutputFormat, type RowTotals } from './format-rows.js';
export { jsonlFormatter } from './format-jsonl.js';
export { csvFormatter } from './format-csv.js';
export { bodyfileFormatter } from './format-bodyfile.js';
export { openMftSource, indexMftSource, type TimedIndex } from './open-mft.js';
export { runMftIndex, type MftIndexRequest, type MftIndexSummary, type RowStream } from './index-run.js';
export { startParseWorkers, AUTO_PARALLEL_MFT_BYTES } from './parse-module.js';
export { filetimeToIso } from './filetime.js';
export { startsNtfsVolume } from './volume-probe.js';
