'use strict';
// Runs SQL statements in an in-memory DuckDB (@duckdb/node-api): the DuckDB peer of
// benchmarks/peers/convert.sh, e.g.
//
//   node duckdb.js "SET threads=1" "COPY (SELECT * FROM read_csv('in.csv')) TO 'out.jsonl' (FORMAT json)"
//
// Each argument is one statement, run in order on one connection.

const { DuckDBInstance } = require('@duckdb/node-api');
const { runMain } = require('./common');

runMain(async () => {
  const statements = process.argv.slice(2);
  if (statements.length === 0) throw new Error('usage: node duckdb.js SQL...');
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  for (const sql of statements) await conn.run(sql);
});
