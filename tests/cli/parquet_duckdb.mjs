// Runs SQL statements in an in-memory DuckDB (npm @duckdb/node-api), for the Parquet reader
// tests to write files with DuckDB and read DuckDB's own view of them:
//
//   SLUICE_NPM_DIR=<dir with node_modules> node tests/cli/parquet_duckdb.mjs SQL [SQL...]
//
// Each statement runs in order; the rows of the last one are printed as one JSON document
// {"columns": [[name, DuckDB type], ...], "rows": [{...}, ...]} (getRowObjectsJson: integers,
// decimals and timestamps as exact strings).
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const npmDir = process.env.SLUICE_NPM_DIR;
if (!npmDir) {
    console.error('parquet_duckdb.mjs: set SLUICE_NPM_DIR to the directory holding node_modules');
    process.exit(2);
}
const pkgDir = path.join(npmDir, 'node_modules', '@duckdb', 'node-api');
const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
const { DuckDBInstance } = await import(pathToFileURL(path.join(pkgDir, pkg.main || 'lib/index.js')).href);

const statements = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
let last = null;
for (const sql of statements) last = await con.runAndReadAll(sql);
const columns = last.columnNames().map((n, i) => [n, last.columnTypes()[i].toString()]);
process.stdout.write(JSON.stringify({ columns, rows: last.getRowObjectsJson() }));
