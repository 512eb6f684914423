/** The FAT format's public surface: its registry entry and what commands may use. */
export { fatFormat } from './format.js';
export { FatVolume } from './volume.js';
