/**
 * $INDEX_ALLOCATION (type 0xA0): the non-resident index blocks of a directory too
 * large for its $INDEX_ROOT. The indexer records its presence only: paths come from
 * the $FILE_NAME parent references, not from walking the B+tree, which is what makes
 * a linear MFT scan fast.
 */
export const INDEX_ALLOCATION_TYPE = 0xa0;
