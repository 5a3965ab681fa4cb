// Reads a Parquet file with two independent readers and prints what each saw as one JSON
// document, for the Parquet tests to compare with the source data:
//
//   SLUICE_NPM_DIR=<dir with node_modules> node tests/cli/parquet_read.mjs FILE [SQL_SUFFIX]
//
//   {"duckdb":    {"columns": [[name, DuckDB type], ...], "rows": [{...}, ...]},
//    "hyparquet": {"columns": [[name, physical type, logical type or null], ...],
//                  "num_rows": N, "rows": [{...}, ...]}}
//
// DuckDB values come from getRowObjectsJson (integers, decimals and timestamps as exact
// strings). hyparquet values are made exact where its defaults are not: timestamps stay the
// integer count of their unit (a string), dates the day number, JSON the raw text; BigInts
// become strings, byte arrays {"hex": ...}, NaN and infinities the strings "NaN", "Infinity",
// "-Infinity" (JSON has no such numbers). Decimals are hyparquet's JS numbers (inexact past
// 2^53; compare them loosely). SQL_SUFFIX (e.g. "ORDER BY id") is appended to DuckDB's query.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const npmDir = process.env.SLUICE_NPM_DIR;
if (!npmDir) {
    console.error('parquet_read.mjs: set SLUICE_NPM_DIR to the directory holding node_modules');
    process.exit(2);
}
const file = process.argv[2];
const suffix = process.argv[3] || '';

async function load(name) {
    const pkgDir = path.join(npmDir, 'node_modules', name);
    const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
    let entry = pkg.module || pkg.main || 'index.js';
    const exp = pkg.exports && (pkg.exports['.'] ?? pkg.exports);
    if (exp && typeof exp === 'object') {
        const pick = (e) => (typeof e === 'string' ? e : e && (pick(e.import) || pick(e.node) || pick(e.default) || pick(e.require)));
        entry = pick(exp) || entry;
    } else if (typeof exp === 'string') {
        entry = exp;
    }
    return import(pathToFileURL(path.join(pkgDir, entry)).href);
}

function plain(v) {
    if (v === null || v === undefined) return null;
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'number') {
        if (Number.isNaN(v)) return 'NaN';
        if (v === Infinity) return 'Infinity';
        if (v === -Infinity) return '-Infinity';
        return v;
    }
    if (v instanceof Uint8Array) return { hex: Buffer.from(v).toString('hex') };
    if (v instanceof Date) return v.toISOString();
    if (Array.isArray(v) || ArrayBuffer.isView(v)) return Array.from(v, plain);
    if (typeof v === 'object') {
        const o = {};
        for (const [k, x] of Object.entries(v)) o[k] = plain(x);
        return o;
    }
    return v;
}

const { DuckDBInstance } = await load('@duckdb/node-api');
const instance = await DuckDBInstance.create(':memory:');
const con = await instance.connect();
const quoted = "'" + file.replaceAll("'", "''") + "'";
const result = await con.runAndReadAll(`SELECT * FROM read_parquet(${quoted}) ${suffix}`);
const duckdb = {
    columns: result.columnNames().map((n, i) => [n, result.columnTypes()[i].toString()]),
    rows: plain(result.getRowObjectsJson()),
};

const hyparquet = await load('hyparquet');
const { compressors } = await load('hyparquet-compressors');
const buf = fs.readFileSync(file);
const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
const metadata = hyparquet.parquetMetadata(ab);
const decoder = new TextDecoder();
const rows = await hyparquet.parquetReadObjects({
    file: ab,
    metadata,
    compressors,
    utf8: false,  // only STRING/JSON/ENUM columns are text; plain BYTE_ARRAY stays bytes
    parsers: {
        timestampFromMilliseconds: (v) => String(v),
        timestampFromMicroseconds: (v) => String(v),
        timestampFromNanoseconds: (v) => String(v),
        dateFromDays: (v) => v,
        jsonFromBytes: (b) => b && decoder.decode(b),
    },
});
const leaves = metadata.schema.slice(1).filter((e) => e.type !== undefined);
const out = {
    duckdb,
    hyparquet: {
        columns: leaves.map((e) => [e.name, e.type, e.logical_type ? e.logical_type.type : null]),
        num_rows: Number(metadata.num_rows),
        rows: plain(rows),
    },
};
process.stdout.write(JSON.stringify(out));
