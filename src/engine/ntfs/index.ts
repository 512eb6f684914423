/** The NTFS MFT indexer's public surface (re-exports only). */
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
export { filetimeToIso } from './filetime.js';
export { ZoneTimeRewriter, checkTimeZone } from './format-zone.js';
