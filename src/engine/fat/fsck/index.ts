/** The FAT checker: re-exports only. */
export { checkFat, readBootSector, type FsckOptions } from './check.js';
export { FsckCode, countFindings, type Finding, type FsckCodeValue, type FsckReport, type FsckStats, type Repair } from './findings.js';
