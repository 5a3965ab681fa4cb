'use strict';
// Postgres -> JSONL.gz -> S3: pg-query-stream (batchSize 1000) -> JSON.stringify -> zlib gzip
// -> @aws-sdk/lib-storage Upload (partSize 8 MiB, queueSize 4). The Node peer of
// benchmarks/peers/s3.sh.
//
//   node export_s3.js [--batch 1000] [--level 6] [--part-size 8388608] [--queue 4] QUERY s3://bucket/key
//
// Postgres from PG* (or PG_DSN); S3 from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ... .

const zlib = require('zlib');
const { PassThrough } = require('stream');
const { pipeline } = require('stream/promises');
const { Upload } = require('@aws-sdk/lib-storage');
const { connectPg, queryRows, jsonLines, parseS3Url, makeS3Client, parseArgs, runMain } = require('./common');

runMain(async () => {
  const { opts, pos } = parseArgs(process.argv.slice(2), {
    batch: '1000', level: '6', 'part-size': String(8 * 1024 * 1024), queue: '4',
  });
  if (pos.length !== 2) throw new Error('usage: node export_s3.js [options] QUERY s3://bucket/key');
  const [sql, url] = pos;
  const client = await connectPg();
  try {
    const body = new PassThrough();
    const upload = new Upload({
      client: makeS3Client(),
      params: { ...parseS3Url(url), Body: body, ContentType: 'application/x-ndjson', ContentEncoding: 'gzip' },
      partSize: Number(opts['part-size']),
      queueSize: Number(opts.queue),
      leavePartsOnError: false,
    });
    const lines = jsonLines();
    const produce = pipeline(queryRows(client, sql, Number(opts.batch)), lines,
      zlib.createGzip({ level: Number(opts.level) }), body);
    await Promise.all([produce, upload.done()]);
    console.error(`export_s3.js: ${lines.rows} rows -> ${url}`);
  } finally {
    await client.end();
  }
});
