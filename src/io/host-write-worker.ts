/**
 * The host-write worker (host-write-queue.ts): writes the files of each batch the main
 * thread posts, on the second core, while the main thread lists and reads the image.
 * Each file is written whole by writeHostFile (create, write, times, close; deleted on
 * failure). Between files it looks at the ABORT word, after raising BUSY, so the main
 * thread can stop it without ever leaving a file half written (see the queue's exit hook).
 */
import { parentPort } from 'node:worker_threads';
import { DiskkitError, ErrorCode } from '../engine/errors.js';
import { writeHostFile } from './host-file-write.js';
import { BATCH_HEADER_BYTES, BatchHeader, Control, type BatchMessage, type BatchReply, type ReadyReply, type StartMessage, type WriteFailure } from './host-write-protocol.js';

let control: Int32Array | null = null;
const buffers: SharedArrayBuffer[] = [];

/** A failure as plain data (DiskkitError fields, or a system error's code and message). */
function describeFailure(index: number, error: unknown): WriteFailure {
  if (error instanceof DiskkitError) return { index, diskkit: true, code: error.code, message: error.message, context: error.context };
  const sys = error as NodeJS.ErrnoException | null;
  return { index, diskkit: false, code: typeof sys?.code === 'string' ? sys.code : 'error', message: sys instanceof Error ? sys.message : String(error) };
}

function writeBatch(message: BatchMessage): BatchReply {
  const buffer = (buffers[message.batch] = message.buffer ?? buffers[message.batch]!);
  const header = new Int32Array(buffer, 0, BATCH_HEADER_BYTES / 4);
  const data = new Uint8Array(buffer, BATCH_HEADER_BYTES);
  const ctl = control!;
  const reply: BatchReply = { batch: message.batch, written: 0, bytes: 0, failures: [] };
  const paths = message.paths.split('\0');
  for (;;) {
    // BUSY before ABORT is read: the main thread sets ABORT, then waits for BUSY to fall.
    Atomics.store(ctl, Control.BUSY, 1);
    if (Atomics.load(ctl, Control.ABORT) !== 0) break;
    const i = Atomics.add(header, BatchHeader.CURSOR, 1);
    if (i >= message.count) break;
    Atomics.store(ctl, Control.CURRENT_BATCH, message.batch);
    Atomics.store(ctl, Control.CURRENT_FILE, i);
    const from = message.offsets[i]!;
    const to = message.offsets[i + 1]!;
    try {
      // A path holding NUL would shift every later one: no file of such a batch is written under another's name.
      if (paths.length !== message.count) throw new DiskkitError(ErrorCode.BAD_NAME, 'a host path in this batch holds NUL; not written', { context: { index: i } });
      writeHostFile(paths[i]!, data.subarray(from, to), message.times[2 * i]!, message.times[2 * i + 1]!);
      reply.written++;
      reply.bytes += to - from;
    } catch (error) {
      reply.failures.push(describeFailure(i, error));
    }
    Atomics.store(ctl, Control.BUSY, 0);
    Atomics.notify(ctl, Control.BUSY);
  }
  Atomics.store(ctl, Control.BUSY, 0);
  Atomics.notify(ctl, Control.BUSY);
  return reply;
}

parentPort?.on('message', (message: BatchMessage | StartMessage) => {
  if ('control' in message) {
    control = new Int32Array(message.control);
    parentPort!.postMessage({ ready: true } satisfies ReadyReply);
    return;
  }
  parentPort!.postMessage(writeBatch(message));
});
