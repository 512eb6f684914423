/**
 * Every format diskkit knows, registered in probe order (the first match wins: NTFS
 * before FAT, since an NTFS boot sector is checked by its OEM id and sane geometry).
 * Adding a format is one import and one line here.
 */
import { registerFormat } from './formats.js';
import { fatFormat } from './fat/index.js';

registerFormat(fatFormat);
