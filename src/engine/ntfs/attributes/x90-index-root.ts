/**
 * $INDEX_ROOT (type 0x90): the root node of a directory's B+tree ($I30 for file
 * names). The indexer records only that a directory has one; the directory flag in
 * the record header is what makes a record a directory.
 */
export const INDEX_ROOT_TYPE = 0x90;
/** The name of the file-name index of a directory. */
export const FILE_NAME_INDEX = '$I30';
