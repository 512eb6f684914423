/** Copy into an image (host -> IMAGE:/DEST): arrives with the FAT write path. */
import { DiskkitError, ErrorCode } from '../engine/errors.js';
import type { GlobalOptions, ImageRef } from './context.js';

export async function copyIn(_sources: string[], dest: ImageRef, _options: { recursive: boolean }, _g: GlobalOptions): Promise<number> {
  throw new DiskkitError(ErrorCode.UNSUPPORTED, 'copying into an image is not built yet', { context: { image: dest.image } });
}
