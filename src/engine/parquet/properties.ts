/** The Parquet writer's settings, shared by the in-thread writer and the encode worker. */
import * as pq from 'parquet-wasm';

/** Rows per row group: about a million, the size scanners read best (issue 13). */
export const ROW_GROUP_ROWS = 1 << 20;

export interface EncodeSettings {
  rowGroupRows?: number | undefined;
  /** Columns (dotted paths, e.g. `flags.list.element`) worth a dictionary: few distinct values. Others are written plain. */
  dictionaryColumns?: readonly string[] | undefined;
}

/** zstd, statistics per column chunk, row groups of ROW_GROUP_ROWS rows. */
export function writerProperties(settings: EncodeSettings): pq.WriterProperties {
  let builder = new pq.WriterPropertiesBuilder();
  if (settings.dictionaryColumns) {
    // A dictionary of unique values (paths, record numbers, times) costs time and, under zstd, bytes too.
    builder = builder.setDictionaryEnabled(false);
    for (const column of settings.dictionaryColumns) builder = builder.setColumnDictionaryEnabled(column, true);
  }
  return builder
    .setCompression(pq.Compression.ZSTD)
    .setMaxRowGroupSize(settings.rowGroupRows ?? ROW_GROUP_ROWS)
    .setStatisticsEnabled(pq.EnabledStatistics.Chunk)
    .setCreatedBy('diskkit')
    .build();
}
