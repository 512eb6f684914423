/**
 * A parse worker of the parallel MFT read mode (see parallel-parse.ts): views the
 * shared record table and chunk slots, parses each job's records in place, and sends
 * back the job's name and stream lists as transferred buffers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachRecordTable, NameList, transferListOf } from './record-table.js';
import { parseRecords, type ParseContext } from './parse-records.js';
import type { ParseJob, ParseJobResult } from './parallel-parse.js';

interface WorkerSetup {
  table: SharedArrayBuffer;
  recordCount: number;
  slots: SharedArrayBuffer;
  chunkSize: number;
  recordSize: number;
  clusterCount: number;
  bitmap: Uint8Array | undefined;
}

const setup = workerData as WorkerSetup;
const table = attachRecordTable(setup.table, setup.recordCount);
const slots = new Uint8Array(setup.slots);
const recordsPerChunk = setup.chunkSize / setup.recordSize;

parentPort!.on('message', (job: ParseJob) => {
  const names = new NameList(recordsPerChunk + 16, recordsPerChunk * 24);
  const streams = new NameList(16, 256);
  const ctx: ParseContext = { table, names, streams, recordSize: setup.recordSize, clusterCount: setup.clusterCount, bitmap: setup.bitmap };
  let result: ParseJobResult;
  try {
    parseRecords(ctx, slots, job.slot * setup.chunkSize, job.first, job.count);
    result = { id: job.id, names: names.toTransfer(), streams: streams.toTransfer() };
  } catch (error) {
    const empty = new NameList(1, 1).toTransfer();
    result = { id: job.id, names: empty, streams: empty, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort!.postMessage(result, [...transferListOf(result.names), ...transferListOf(result.streams)]);
});
