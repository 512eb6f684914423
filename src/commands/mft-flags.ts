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
}

export interface BenchFlags {
  modes: string;
  chunkSize?: number;
  workers?: string;
  skipUnused?: boolean;
  runs: string;
  jobs?: string;
}
