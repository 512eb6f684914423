/** Indexing many sources in one run (issue 13): the public surface (re-exports only). */
export { outputNamesFor, type OutputName } from './output-names.js';
export { runSources, threadsPerJob, outcomeError, type SourceOutcome, type SourceError } from './run-sources.js';
export { runFleetIndex, laneEnv, type FleetRequest, type FleetSummary, type FleetSourceSummary } from './fleet-index.js';
export { prefixRows, type RowPrefixer } from './row-prefix.js';
