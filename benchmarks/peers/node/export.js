'use strict';
// Postgres -> JSONL(.gz) the way a typical Node service does it: pg + pg-query-stream
// (batchSize 1000) -> JSON.stringify per row -> zlib gzip -> file. The Node peer of
// benchmarks/peers/export.sh.
//
//   node export.js [--batch 1000] [--level 6] QUERY OUTPUT.jsonl[.gz]
//
// Connection from the PG* environment variables (or PG_DSN). Prints the row count on stderr.

const fs = require('fs');
const zlib = require('zlib');
const { pipeline } = require('stream/promises');
const { connectPg, queryRows, jsonLines, parseArgs, runMain } = require('./common');

runMain(async () => {
  const { opts, pos } = parseArgs(process.argv.slice(2), { batch: '1000', level: '6' });
  if (pos.length !== 2) throw new Error('usage: node export.js [--batch N] [--level L] QUERY OUTPUT');
  const [sql, output] = pos;
  const client = await connectPg();
  try {
    const lines = jsonLines();
    const stages = [queryRows(client, sql, Number(opts.batch)), lines];
    if (output.endsWith('.gz')) stages.push(zlib.createGzip({ level: Number(opts.level) }));
    stages.push(fs.createWriteStream(output));
    await pipeline(...stages);
    console.error(`export.js: ${lines.rows} rows`);
  } finally {
    await client.end();
  }
});
