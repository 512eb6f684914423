/**
 * $REPARSE_POINT (type 0xC0): symbolic links, junctions, deduplicated and cloud
 * files. The value starts with the reparse tag; the indexer flags the record and
 * keeps the tag.
 */
export const REPARSE_POINT_TYPE = 0xc0;
export const REPARSE_TAG_LENGTH = 4;

export const ReparseTag = {
  MOUNT_POINT: 0xa0000003,
  SYMLINK: 0xa000000c,
  DEDUP: 0x80000013,
  CLOUD: 0x9000001a,
} as const;
