/**
 * $DATA (type 0x80): a file's contents. The unnamed $DATA is the file; each named
 * $DATA is an alternate data stream with its own size (edge case 12). A resident
 * $DATA's size is its value length; a non-resident one's sizes are in the header of
 * its first piece (start VCN 0) — later pieces, possibly in extension records,
 * carry only runs. Sparse, compressed and encrypted are attribute header flags;
 * the allocated size of a compressed stream is a multiple of its compression unit
 * (edge case 14).
 */
export const DATA_TYPE = 0x80;

/** Offsets inside the non-resident header (see attribute-header.ts NonResidentHeader). */
export const DATA_ALLOCATED_SIZE_OFFSET = 0x28;
export const DATA_REAL_SIZE_OFFSET = 0x30;
export const DATA_COMPRESSED_SIZE_OFFSET = 0x40;
