/** The option values of `mft index` and `mft bench`, shared by the one-source and many-source forms. */
import type { IoOptionValues } from './io-options.js';

export interface IndexFlags extends IoOptionValues {
  format: string;
  out?: string;
  streams?: boolean;
  deleted?: boolean;
  strict?: boolean;
  skipUnused?: boolean;
  outDir?: string;
  jobs?: string;
  /** -o SECTORS[@SIZE] / --offset-bytes N: where the volume starts in the image (TSK's -o). */
  offset?: string;
  offsetBytes?: string;
  /** -z TZ: JSONL/CSV times in this zone. */
  zone?: string;
  verbose?: boolean;
}

export interface BenchFlags {
  modes?: string;
  /** bench's spelling of --modes. */
  mode?: string;
  stats?: boolean;
  chunkSize?: number;
  workers?: string;
  skipUnused?: boolean;
  runs: string;
  jobs?: string;
}
