'use strict';
// Shared bits of the Node peers: a pg-query-stream row source that writes JSON lines, and an
// S3 client for a local S3-compatible endpoint.

const { Client } = require('pg');
const QueryStream = require('pg-query-stream');
const { Transform } = require('stream');

/** Connects with the PG* environment variables (or PG_DSN) and returns the client. */
async function connectPg() {
  const client = new Client(process.env.PG_DSN ? { connectionString: process.env.PG_DSN } : {});
  await client.connect();
  return client;
}

/** A readable of row objects for `sql`, fetched batchSize rows at a time (a cursor). */
function queryRows(client, sql, batchSize) {
  return client.query(new QueryStream(sql, [], { batchSize }));
}

/** object rows -> "JSON.stringify(row)\n" strings; counts rows in .rows. */
function jsonLines() {
  const t = new Transform({
    writableObjectMode: true,
    transform(row, _enc, cb) {
      t.rows++;
      cb(null, JSON.stringify(row) + '\n');
    },
  });
  t.rows = 0;
  return t;
}

/** "s3://bucket/key" -> { Bucket, Key }. */
function parseS3Url(url) {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!m) throw new Error(`not an s3://bucket/key URL: ${url}`);
  return { Bucket: m[1], Key: m[2] };
}

/** An S3Client for AWS_ENDPOINT_URL (path style), with plain (not aws-chunked) payloads. */
function makeS3Client() {
  const { S3Client } = require('@aws-sdk/client-s3');
  const endpoint = process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL;
  return new S3Client({
    region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1',
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    // Newer SDKs add CRC32 trailers with aws-chunked bodies by default; s3rver would store
    // the framing inside the object. Checksums only when an operation requires them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** argv parsing: --name value options, then positionals. */
function parseArgs(argv, defaults) {
  const opts = { ...defaults };
  const pos = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const k = a.slice(2);
      if (!(k in defaults)) throw new Error(`unknown option ${a}`);
      opts[k] = argv[++i];
    } else {
      pos.push(a);
    }
  }
  return { opts, pos };
}

/** Runs main(), printing errors and setting the exit status. */
function runMain(main) {
  main().catch((err) => {
    console.error(`${process.argv[1]}: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  });
}

module.exports = { connectPg, queryRows, jsonLines, parseS3Url, makeS3Client, parseArgs, runMain };
