/**
 * Writing a Parquet file from Arrow tables made one batch at a time, through
 * parquet-wasm (Apache Arrow's Rust Parquet writer compiled to WebAssembly): row
 * groups of `rowGroupRows` rows, zstd, statistics per column chunk. The caller's
 * `nextTable` is asked for the next batch only when the writer wants more rows, so
 * memory holds about one batch and one row group, whatever the row count.
 */
import * as arrow from 'apache-arrow';
import * as pq from 'parquet-wasm';

/** Rows per row group: about a million, the size scanners read best (issue 13). */
export const ROW_GROUP_ROWS = 1 << 20;

export async function writeParquetStream(
  /** The next batch of rows, or null at the end. Must give at least one table (an empty one carries the schema). */
  nextTable: () => arrow.Table | null,
  sink: (bytes: Uint8Array) => void | Promise<void>,
  options: { rowGroupRows?: number | undefined } = {},
): Promise<void> {
  let queued: pq.RecordBatch[] = [];
  const input = new ReadableStream<pq.RecordBatch>({
    pull(controller) {
      while (queued.length === 0) {
        const table = nextTable();
        if (table === null) break;
        queued = pq.Table.fromIPCStream(arrow.tableToIPC(table, 'stream')).recordBatches();
      }
      const next = queued.shift();
      if (next) controller.enqueue(next);
      else controller.close();
    },
  });
  const properties = new pq.WriterPropertiesBuilder()
    .setCompression(pq.Compression.ZSTD)
    .setMaxRowGroupSize(options.rowGroupRows ?? ROW_GROUP_ROWS)
    .setStatisticsEnabled(pq.EnabledStatistics.Chunk)
    .setCreatedBy('diskkit')
    .build();
  const output = await pq.transformParquetStream(input, properties);
  for await (const piece of output as unknown as AsyncIterable<Uint8Array>) await sink(piece);
}
