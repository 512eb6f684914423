/**
 * The worker behind extent-writer.ts's second core: compresses the extent the main
 * thread put in the shared input slot (compressExtentSync: the codec and the raw
 * fallback of docs/cartridge-format.md §9.2), copies the result into the shared output
 * slot, answers on the port and wakes the blocked caller through the shared flag.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { compressExtentSync } from './extent-codec.js';
import { Compression, type CompressionId } from './superblock.js';

interface Boot {
  port: MessagePort;
  flag: SharedArrayBuffer;
  input: SharedArrayBuffer;
  output: SharedArrayBuffer;
}

export interface CompressJob {
  length: number;
  compression: CompressionId;
  pageSize: number;
  level: number;
}

export type CompressReply = { ok: true; compression: CompressionId; length: number } | { ok: false; message: string };

const { port, flag, input, output } = workerData as Boot;
const wake = new Int32Array(flag);
const inputBytes = new Uint8Array(input);
const outputBytes = new Uint8Array(output);

port.on('message', (job: CompressJob) => {
  let reply: CompressReply;
  try {
    // lz4 is encoded straight into the output slot; zstd's result is copied there.
    const result = compressExtentSync(inputBytes.subarray(0, job.length), job.compression, job.pageSize, job.level, outputBytes);
    // Stored raw: the main thread writes its input slot as it is.
    if (result.compression !== Compression.NONE && result.bytes.buffer !== outputBytes.buffer) outputBytes.set(result.bytes);
    reply = { ok: true, compression: result.compression, length: result.bytes.length };
  } catch (error) {
    reply = { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
  Atomics.store(wake, 0, 1);
  Atomics.notify(wake, 0);
});
