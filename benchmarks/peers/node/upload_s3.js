'use strict';
// Raw upload of a local file with @aws-sdk/lib-storage Upload (partSize 8 MiB, queueSize 4):
// the Node peer of the raw-upload row in benchmarks/peers/s3.sh.
//
//   node upload_s3.js [--part-size 8388608] [--queue 4] FILE s3://bucket/key

const fs = require('fs');
const { Upload } = require('@aws-sdk/lib-storage');
const { parseS3Url, makeS3Client, parseArgs, runMain } = require('./common');

runMain(async () => {
  const { opts, pos } = parseArgs(process.argv.slice(2), { 'part-size': String(8 * 1024 * 1024), queue: '4' });
  if (pos.length !== 2) throw new Error('usage: node upload_s3.js [options] FILE s3://bucket/key');
  const [file, url] = pos;
  const upload = new Upload({
    client: makeS3Client(),
    params: { ...parseS3Url(url), Body: fs.createReadStream(file, { highWaterMark: 1 << 20 }) },
    partSize: Number(opts['part-size']),
    queueSize: Number(opts.queue),
    leavePartsOnError: false,
  });
  await upload.done();
  console.error(`upload_s3.js: ${fs.statSync(file).size} bytes -> ${url}`);
});
