// For bench/fleet.bench.js: files per extension over a Parquet index, with DuckDB
// (@duckdb/node-api, a devDependency). Prints `count ext` lines, sorted by extension,
// the same shape as the grep and jq pipelines it is compared with.
import { DuckDBInstance } from '@duckdb/node-api';

const [file] = process.argv.slice(2);
const connection = await (await DuckDBInstance.create(':memory:')).connect();
const reader = await connection.runAndReadAll(
  `SELECT count(*) AS n, regexp_extract(name, '\\.([^.]*)$', 1) AS ext FROM read_parquet('${file.replace(/'/g, "''")}') WHERE NOT isDir GROUP BY ext ORDER BY ext`,
);
process.stdout.write(reader.getRowObjectsJson().map((r) => `${r.n} ${r.ext}`).join('\n') + '\n');
