/**
 * `diskkit ls [-R] IMAGE[:/PATH] --format jsonl|csv|parquet [--out FILE]` (issue 13):
 * the listing as a table for inventories, one row per entry with the columns every
 * volume format reports (src/engine/listing). Same selection as `ls`: hidden and
 * system entries only with -a (and -R does not descend into them), deleted entries
 * with --deleted. A directory that cannot be read is reported on stderr, the rest
 * is listed, and the exit code is 1. --out is written whole or not at all; without
 * it the rows go to stdout (Parquet too, unless stdout is a terminal).
 */
import { escapeName, reportError, usageError, type GlobalOptions } from './context.js';
import { ExitCode } from './exit-codes.js';
import { writeAllSync } from './stdout-writer.js';
import { fromSystemError } from '../engine/errors.js';

export interface ListingExportOptions {
  format: string;
  out?: string | undefined;
  recursive?: boolean | undefined;
  all?: boolean | undefined;
  deleted?: boolean | undefined;
}

export async function runListingExport(image: string, path: string, opts: ListingExportOptions, g: GlobalOptions): Promise<number> {
  const [{ openVolume }, { walkVolume, walkEntryOf }, { createListingWriter, LISTING_FORMATS }] = await Promise.all([
    import('../engine/open-volume.js'),
    import('../engine/walk.js'),
    import('../engine/listing/index.js'),
  ]);
  if (!(LISTING_FORMATS as readonly string[]).includes(opts.format)) throw usageError(`--format takes ${LISTING_FORMATS.join(', ')}, not '${opts.format}'`);
  const format = opts.format as (typeof LISTING_FORMATS)[number];
  if (format === 'parquet' && opts.out === undefined && process.stdout.isTTY) throw usageError('--format parquet is binary: give --out FILE or redirect stdout');
  const volume = await openVolume(image, { partition: g.partition });
  let failed = false;
  const list = (sink: (bytes: Uint8Array) => void): Promise<void> => {
    const writer = createListingWriter(format, sink);
    const top = volume.stat(path);
    if (top.type === 'file') writer.entry(walkEntryOf(top));
    else {
      walkVolume(volume, top, { deleted: opts.deleted, dotEntries: false, recursive: Boolean(opts.recursive) }, {
        directory() {},
        entry(e) {
          if (opts.all !== true && (e.attributes.includes('hidden') || e.attributes.includes('system'))) return false;
          writer.entry(e);
          return e.type === 'dir' && (!e.deleted || opts.deleted === true);
        },
        error(_path, _depth, error) {
          failed = true;
          reportError(image, error);
        },
      });
    }
    return writer.finish();
  };
  try {
    if (opts.out !== undefined) {
      const { writeAtomically } = await import('../io/atomic-output.js');
      await writeAtomically(opts.out, (file) => list((bytes) => file.write(bytes)), { durable: false });
    } else {
      await list((bytes) => {
        try {
          writeAllSync(1, bytes);
        } catch (error) {
          throw fromSystemError(error, 'stdout', 'write');
        }
      });
    }
    if (!g.quiet) for (const w of volume.warnings) process.stderr.write(`diskkit: ${escapeName(image)}: warning: ${escapeName(w.message)}\n`);
  } finally {
    volume.close();
  }
  return failed ? ExitCode.ERROR : ExitCode.OK;
}


