/**
 * Every format diskkit knows, registered in probe order (the first match wins: NTFS
 * before FAT, since an NTFS boot sector is checked by its OEM id and sane geometry).
 * Adding a format is one import and one line here. A format's definition module is
 * imported, not always its whole index.ts: every command loads this file, and an
 * index that re-exports modules which open images (ntfs/open-mft.ts imports
 * image.ts) would make a cycle through image.ts.
 */
import { registerFormat } from './formats.js';
import { fatFormat } from './fat/index.js';
import { ntfsFormat } from './ntfs/format.js';
import { cartridgeFormat } from './cartridge/format.js';

// Cartridge first: its 8-byte magic is exact, and says nothing to the boot-sector probes.
registerFormat(cartridgeFormat);
registerFormat(ntfsFormat);
registerFormat(fatFormat);
