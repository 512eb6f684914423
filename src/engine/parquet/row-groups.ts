/** Rows per row group: about a million, the size scanners read best (issue 13). */
export const ROW_GROUP_ROWS = 1 << 20;
