/**
 * Memory one MFT index leaves to the next index built in the same process: an
 * `mft index SRC...` lane (engine/fleet/fleet-lane.ts) indexes its sources one after
 * another, and each source's index needs the same large arrays (the record table, the
 * name and stream lists' columns and characters, the per-record grouping): ~45 MiB,
 * ~12,000 pages, for 250,000 records. Fresh memory costs a page fault on each page's
 * first write; on the 2-core virtual machines of BENCHMARKS.md a fault cost ~13 µs of
 * CPU (user + system; 46,000 faults 0.6 s), so a 250,000-record source paid ~0.15
 * CPU s, a quarter of its pipeline, on faults. Memory taken over from the previous
 * source was touched already: zeroing it costs a few milliseconds. It also bounds a
 * lane's memory to one index instead of the last source's waiting for a collection
 * beside the next one's.
 *
 * What is handed on is zero-filled over the part the next index uses, so an index
 * built in it is the same as one built in fresh memory. Only an index whose run ended
 * well is kept (`keep`): after a failure or an interruption a worker thread may still
 * hold its arrays.
 */
import type { RecordTable } from './record-table.js';
import type { NameList, NameListStorage } from './name-list.js';
import type { NameIndex } from './name-groups.js';

/** The parts of an MftIndex (mft-index.ts) kept: named here, not imported, so that the scan can import this module. */
export interface IndexArrays {
  table: RecordTable;
  names: NameList;
  streams: NameList;
  namesByRecord: NameIndex;
  streamsByRecord: NameIndex;
}

/** The arrays of a finished index, for the next one (IndexMemory.take). */
export interface KeptIndex {
  table: ArrayBuffer | SharedArrayBuffer;
  names: NameListStorage;
  streams: NameListStorage;
  namesByRecord: NameIndex;
  streamsByRecord: NameIndex;
}

export class IndexMemory {
  private kept: KeptIndex | null = null;

  /** Keeps a finished index's arrays for the next index (replacing what was kept). */
  keep(index: IndexArrays): void {
    this.kept = {
      table: index.table.buffer,
      names: index.names.storage(),
      streams: index.streams.storage(),
      namesByRecord: index.namesByRecord,
      streamsByRecord: index.streamsByRecord,
    };
  }

  /** What the last kept index left, once: the next index's scan takes what fits and drops the rest. */
  take(): KeptIndex | null {
    const kept = this.kept;
    this.kept = null;
    return kept;
  }
}
