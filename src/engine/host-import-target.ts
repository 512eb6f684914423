/**
 * Whether an image may take a host tree in bulk (Volume.importHostTree), told from its
 * first bytes before the engine loads: cp -r starts its host-reader thread while the
 * image opens, but only for a format with a bulk import. Started for any other image,
 * the thread read a few megabytes of files (about 1,500 of a source tree) that the
 * entry-by-entry copy then read again. Only a hint: the volume itself still decides.
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { CARTRIDGE_MAGIC, hasCartridgeMagic } from './cartridge/magic.js';

export function imageMayImportHostTree(image: string): boolean {
  let fd = -1;
  try {
    // Non-blocking: a FIFO named as the image must not hold the copy here (opening it is refused later, with its own error).
    fd = openSync(image, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const head = new Uint8Array(CARTRIDGE_MAGIC.length);
    return readSync(fd, head, 0, head.length, 0) === head.length && hasCartridgeMagic(head);
  } catch {
    return false;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}
