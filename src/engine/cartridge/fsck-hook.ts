/**
 * Cartridge's fsck hook: checkCartridge's report in the shape `diskkit fsck` prints, with
 * the passphrase asked of the command's provider (engine/passphrase.ts) only when the
 * image turns out to be encrypted. Exit codes are the command's, as for FAT.
 */
import type { BlockSource } from '../../io/block-source.js';
import { DiskkitError, ErrorCode, isDiskkitError } from '../errors.js';
import type { FsckOutcome, FsckRequest } from '../formats.js';
import { passphraseFor } from '../passphrase.js';
import { type CartridgeCheck, checkCartridge } from './fsck-check.js';

export async function fsckCartridge(source: BlockSource, request: FsckRequest): Promise<FsckOutcome> {
  // The check opens the file by name and addresses pages from byte 0: a Cartridge is a whole file.
  if (source.baseOffset !== 0 || (source.kind !== 'file' && source.kind !== 'block-device')) {
    throw new DiskkitError(ErrorCode.UNSUPPORTED, 'a Cartridge image is checked as a whole file, not inside a partition', { context: { image: source.name } });
  }
  let report: CartridgeCheck;
  try {
    report = await checkCartridge(source.name, { repair: request.repair });
  } catch (error) {
    if (!isDiskkitError(error) || error.context.reason !== 'passphrase-needed') throw error;
    const passphrase = passphraseFor(source.name, 'open');
    if (passphrase === undefined) throw error;
    report = await checkCartridge(source.name, { repair: request.repair, passphrase });
  }
  const s = report.stats;
  const finding = (f: CartridgeCheck['errors'][number]) => ({ code: f.code, message: f.message, ...(f.path ? { path: [f.path] } : {}), ...(f.omitted ? { omitted: f.omitted } : {}) });
  return {
    clean: report.clean,
    errors: report.errors.map(finding),
    repairs: report.repairs,
    uncorrected: report.uncorrected.map(finding),
    stats: s,
    statsLine: `Cartridge generation ${s.generation}: ${s.files} files, ${s.directories} directories, ${s.extents} extents, ${s.snapshots} snapshots, ${s.pagesVerified} metadata pages and ${s.bytesVerified} extent bytes verified, ${s.freePages} of ${s.pageCount} pages free`,
    summary: `${s.files + s.directories} files and directories, ${s.pageCount} pages of ${s.pageSize} bytes`,
  };
}
