#!/usr/bin/env python3
"""End-to-end tests of the Parquet reader through the CLI: `sluice convert x.parquet out.jsonl`
(and .csv, and s3:// input) on files DuckDB writes with each codec, with and without
dictionaries, data pages v1 and v2, flat and LIST columns and several row groups; sluice's
output must equal DuckDB's own reading of the same file (normalised only where the text
formats are defined: `T` and `Z` in timestamps, floats compared as values). Hostile files
(truncated, a footer length of gigabytes, chunks past the end, corrupt bytes) must fail with
a clear message and exit 2, never crash.

    python3 tests/cli/test_parquet_read.py SLUICE SLUICE_DEMO

Needs SLUICE_NPM_DIR (node_modules with @duckdb/node-api, installed by scripts/test). The S3
case needs SLUICE_TEST_S3_ENDPOINT (else skipped); the load case SLUICE_TEST_PG_DSN and psql.
"""

import csv
import io
import json
import math
import os
import shutil
import struct
import subprocess

from cli_common import Failure, Skip, Suite, check, eq, err, expect_exit, read, write

s = Suite("parquet_read")
HERE = os.path.dirname(os.path.abspath(__file__))
NPM = os.environ.get("SLUICE_NPM_DIR", "")


def duckdb(*sql):
    """Runs SQL statements in DuckDB; returns {"columns": [[name, type]], "rows": [...]}."""
    if not NPM or not os.path.isdir(os.path.join(NPM, "node_modules", "@duckdb", "node-api")):
        raise Failure(f"@duckdb/node-api is not installed under SLUICE_NPM_DIR={NPM!r} (scripts/test installs it)")
    r = subprocess.run(["node", os.path.join(HERE, "parquet_duckdb.mjs"), *sql], capture_output=True,
                       env=dict(os.environ, SLUICE_NPM_DIR=NPM), timeout=300)
    if r.returncode != 0:
        raise Failure(f"duckdb failed: {r.stderr.decode(errors='replace')[-2000:]}")
    return json.loads(r.stdout)


# Every type the reader maps, NULLs, extremes, unicode, empty strings and lists.
SOURCE = """
SELECT i::BIGINT AS id,
       CASE WHEN i % 11 = 0 THEN NULL ELSE (i * 7919 - 100000)::INTEGER END AS i32,
       (i % 200 - 100)::SMALLINT AS i16,
       CASE WHEN i = 1 THEN 9223372036854775807 WHEN i = 2 THEN -9223372036854775808 ELSE i * 1000003 END::BIGINT AS i64,
       (i * 3)::UINTEGER AS u32,
       CASE WHEN i % 13 = 0 THEN NULL WHEN i % 13 = 1 THEN '' ELSE 'naïve ☃ ' || (i % 97) || ' "q" ,\n' END AS s,
       'k' || (i % 5) AS low_card,
       CASE WHEN i % 7 = 0 THEN NULL ELSE (i * 12.345)::DECIMAL(9,3) END AS dec9,
       (i * 1.5 - 7)::DECIMAL(18,4) AS dec18,
       CASE WHEN i = 3 THEN 99999999999999999999999999999999999.999 ELSE (i * 1000001.5)::DECIMAL(38,3) END AS dec38,
       CASE WHEN i = 4 THEN 'NaN'::DOUBLE WHEN i = 5 THEN 'inf'::DOUBLE WHEN i = 6 THEN '-inf'::DOUBLE
            ELSE i / 7.0 END AS dbl,
       (i / 3.0)::FLOAT AS flt,
       i % 3 = 0 AS flag,
       DATE '1969-12-25' + (i % 4000)::INT AS d,
       TIMESTAMP '1960-01-01 00:00:00' + INTERVAL (i * 3700123) MILLISECOND AS ts,
       TIMESTAMPTZ '2024-02-29 23:59:59.5+00' + INTERVAL (i) SECOND AS tstz,
       TIMESTAMP_MS '2001-02-03 04:05:06.789' AS ts_ms,
       TIME '00:00:00' + INTERVAL (i * 1013) MILLISECOND AS t,
       md5(i::VARCHAR)::UUID AS u,
       CASE WHEN i % 9 = 0 THEN NULL ELSE ('\\x00ff' || (i % 10))::BLOB END AS bl,
       CASE WHEN i % 5 = 0 THEN NULL WHEN i % 5 = 1 THEN [] ELSE [i, NULL, i + 1] END::INTEGER[] AS li,
       CASE WHEN i % 4 = 0 THEN NULL ELSE ['a' || (i % 3), NULL, ''] END AS ls,
       [(i * 0.25)::DECIMAL(10,2)] AS ldec
FROM range(2500) t(i)
"""


def norm_duck(v, typ):
    """DuckDB's JSON value as sluice writes it (the issue's text formats)."""
    if v is None:
        return None
    if typ.endswith("[]"):
        return [norm_duck(x, typ[:-2]) for x in v]
    if typ.startswith("TIMESTAMP WITH TIME ZONE"):
        assert v.endswith("+00"), v
        return v[:-3].replace(" ", "T") + "Z"
    if typ.startswith("TIMESTAMP"):
        return v.replace(" ", "T")
    if typ in ("DOUBLE", "FLOAT"):
        if isinstance(v, str):
            return v  # "NaN", "Infinity", "-Infinity"
        return struct.unpack("f", struct.pack("f", v))[0] if typ == "FLOAT" else v
    if typ in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UINTEGER", "UBIGINT", "HUGEINT") or typ.startswith("DECIMAL"):
        return str(v)  # exact digits (DuckDB gives decimals with all their places)
    return v


def norm_sluice(v, typ):
    """sluice's JSON value (numbers kept as their text) in the same normal form."""
    if v is None:
        return None
    if typ.endswith("[]"):
        return [norm_sluice(x, typ[:-2]) for x in v]
    if typ in ("DOUBLE", "FLOAT"):
        if isinstance(v, str) and v in ("NaN", "Infinity", "-Infinity"):
            return v
        x = float(v)
        if typ == "FLOAT":
            # Shortest round-trip text of the float32 value: it must read back to the same value.
            f = struct.unpack("f", struct.pack("f", x))[0]
            check(f == x or math.isclose(f, x, rel_tol=1e-7), f"float text {v} is not a float32 value")
            return f
        return x
    return v


def sluice_rows(path):
    text = read(path).decode("utf-8")
    return [json.loads(line, parse_float=str, parse_int=str) for line in text.splitlines()]


def compare(got, duck, what):
    cols = duck["columns"]
    eq(len(got), len(duck["rows"]), f"{what}: row count")
    for i, (g, d) in enumerate(zip(got, duck["rows"])):
        eq(list(g.keys()), [c for c, _ in cols], f"{what}: row {i} keys")
        for name, typ in cols:
            a, b = norm_sluice(g[name], typ), norm_duck(d[name], typ)
            if a != b:
                raise Failure(f"{what}: row {i} column {name} ({typ}): sluice {g[name]!r}, DuckDB {d[name]!r}")


def write_with_duckdb(path, options):
    duckdb(f"COPY ({SOURCE}) TO '{path}' (FORMAT parquet, {options})", "SELECT 1")


def duck_view(path):
    return duckdb(f"SELECT * FROM read_parquet('{path}')")


def encodings(path):
    r = duckdb(f"SELECT DISTINCT encodings FROM parquet_metadata('{path}')")
    return {row["encodings"] for row in r["rows"]}


# --- DuckDB's files: every codec, dictionaries on and off, pages v1 and v2 -------------------
MATRIX = [
    (codec, version, dictionary)
    for codec in ("zstd", "snappy", "gzip", "uncompressed")
    for version in ("V1", "V2")
    for dictionary in (True, False)
]


@s.case("duckdb_matrix")
def _(d):
    problems = []
    seen = set()
    for codec, version, dictionary in MATRIX:
        name = f"{codec}_{version}_{'dict' if dictionary else 'plain'}"
        path = os.path.join(d, name + ".parquet")
        opts = f"COMPRESSION {codec}, PARQUET_VERSION {version}, ROW_GROUP_SIZE 1000"
        if not dictionary:
            opts += ", DICTIONARY_SIZE_LIMIT 1"
        write_with_duckdb(path, opts)
        seen |= encodings(path)
        out = os.path.join(d, name + ".jsonl")
        r = s.run("convert", path, out)
        if r.returncode != 0:
            problems.append(f"{name}: exit {r.returncode}: {err(r)}")
            continue
        try:
            compare(sluice_rows(out), duck_view(path), name)
        except Failure as e:
            problems.append(str(e))
    check(not problems, "\n  " + "\n  ".join(problems))
    # The matrix did exercise the encodings it is meant to.
    joined = ",".join(seen)
    for enc in ("RLE_DICTIONARY", "PLAIN", "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "BYTE_STREAM_SPLIT"):
        check(enc in joined, f"no column chunk in {enc} (DuckDB wrote {sorted(seen)})")


@s.case("csv_output")
def _(d):
    path = os.path.join(d, "x.parquet")
    write_with_duckdb(path, "COMPRESSION zstd, ROW_GROUP_SIZE 700")
    s.ok("convert", path, os.path.join(d, "x.jsonl"))
    s.ok("convert", path, os.path.join(d, "x.csv"))
    rows = sluice_rows(os.path.join(d, "x.jsonl"))
    with open(os.path.join(d, "x.csv"), newline="", encoding="utf-8") as f:
        table = list(csv.reader(f))
    header = table[0]
    eq(header, list(rows[0].keys()), "CSV header")
    eq(len(table) - 1, len(rows), "CSV rows")
    for i, (line, row) in enumerate(zip(table[1:], rows)):
        for name, field in zip(header, line):
            v = row[name]
            if v is None:
                want = ""
            elif isinstance(v, list):
                want = None  # checked below: the JSON array text
                check(json.loads(field, parse_float=str, parse_int=str) == v, f"row {i} {name}: {field!r} vs {v!r}")
                continue
            elif isinstance(v, bool):
                want = "true" if v else "false"
            else:
                want = v  # strings, and numbers kept as their text
            eq(field, want, f"CSV row {i} column {name}")


@s.case("projection_and_gz_output")
def _(d):
    # .jsonl.gz output and the same rows whatever the row-group size.
    a, b = os.path.join(d, "a.parquet"), os.path.join(d, "b.parquet")
    write_with_duckdb(a, "COMPRESSION snappy, ROW_GROUP_SIZE 100")
    write_with_duckdb(b, "COMPRESSION gzip, ROW_GROUP_SIZE 100000")
    s.ok("convert", a, os.path.join(d, "a.jsonl.gz"))
    s.ok("convert", b, os.path.join(d, "b.jsonl"))
    import gzip
    eq(gzip.decompress(read(os.path.join(d, "a.jsonl.gz"))), read(os.path.join(d, "b.jsonl")),
       "100-row groups vs one group")


@s.case("empty_and_special")
def _(d):
    path = os.path.join(d, "e.parquet")
    duckdb(f"COPY (SELECT 1::INT AS a, 'x' AS b WHERE false) TO '{path}' (FORMAT parquet)", "SELECT 1")
    s.ok("convert", path, os.path.join(d, "e.jsonl"))
    eq(read(os.path.join(d, "e.jsonl")), b"", "no rows")
    s.ok("convert", path, os.path.join(d, "e.csv"))
    eq(read(os.path.join(d, "e.csv")), b"a,b\n", "header only")
    # Infinite dates and timestamps: DuckDB writes the extreme values; sluice says infinity.
    path = os.path.join(d, "inf.parquet")
    duckdb(f"COPY (SELECT 'infinity'::DATE AS d, '-infinity'::TIMESTAMP AS t, 'infinity'::TIMESTAMPTZ AS z) "
           f"TO '{path}' (FORMAT parquet)", "SELECT 1")
    s.ok("convert", path, os.path.join(d, "inf.jsonl"))
    eq(json.loads(read(os.path.join(d, "inf.jsonl"))), {"d": "infinity", "t": "-infinity", "z": "infinity"},
       "infinities")


# --- hostile files -------------------------------------------------------------------------------
@s.case("hostile_files")
def _(d):
    good = os.path.join(d, "good.parquet")
    write_with_duckdb(good, "COMPRESSION zstd, ROW_GROUP_SIZE 1000")
    data = read(good)
    flen = struct.unpack("<I", data[-8:-4])[0]

    def expect_fail(name, content, *patterns):
        p = os.path.join(d, name + ".parquet")
        write(p, content)
        r = s.run("convert", p, os.path.join(d, name + ".jsonl"), timeout=60)
        expect_exit(r, 2, name)
        msg = err(r)
        for pat in patterns:
            check(pat in msg, f"{name}: message lacks {pat!r}: {msg}")
        check(not os.path.exists(os.path.join(d, name + ".jsonl")), f"{name}: an output file was left")

    expect_fail("truncated_half", data[: len(data) // 2], "not a Parquet file")
    expect_fail("tiny", b"PAR1", "not a Parquet file")
    expect_fail("footer_gigabytes", data[:-8] + struct.pack("<I", 0xFFFFFFF0) + b"PAR1", "footer length")
    expect_fail("footer_too_long", data[:-8] + struct.pack("<I", len(data)) + b"PAR1", "footer length")
    # The data region cut short, the footer kept: column chunks point past the data.
    cut = data[: len(data) - 8 - flen]
    expect_fail("chunks_past_end", cut[: len(cut) // 3] + data[len(data) - 8 - flen:], "lies outside the file", "row group")
    # A footer that is not Thrift.
    expect_fail("footer_garbage", data[: len(data) - 8 - flen] + b"\xff" * flen + data[-8:], "corrupt footer")
    # Corrupt page bytes: a clear error or (rarely) other values, never a crash.
    for k in range(1, 40):
        bad = bytearray(data)
        for j in range(8):
            pos = 4 + (k * 7919 + j * 104729) % (len(data) - 12 - flen)
            bad[pos] ^= 0x5A
        p = os.path.join(d, f"flip{k}.parquet")
        write(p, bytes(bad))
        r = s.run("convert", p, os.path.join(d, f"flip{k}.jsonl"), timeout=60)
        check(r.returncode in (0, 2), f"flip{k}: exit {r.returncode}: {err(r)}")
        if r.returncode == 2:
            check("parquet" in err(r) or "zstd" in err(r), f"flip{k}: unclear message: {err(r)}")
    # stdin is not seekable.
    r = s.run("convert", "-", os.path.join(d, "x.jsonl"), "--from", "parquet", input=data)
    expect_exit(r, 2, "parquet from stdin")
    check("random access" in err(r), err(r))


# --- S3 input: ranged GETs ------------------------------------------------------------------------
@s.case("s3_input")
def _(d):
    endpoint = os.environ.get("SLUICE_TEST_S3_ENDPOINT", "")
    if not endpoint:
        raise Skip("SLUICE_TEST_S3_ENDPOINT is not set")
    bucket = os.environ.get("SLUICE_TEST_S3_BUCKET", "sluice-test")
    path = os.path.join(d, "x.parquet")
    write_with_duckdb(path, "COMPRESSION zstd, ROW_GROUP_SIZE 1000")
    key = f"parquet-read/{os.getpid()}/x.parquet"
    # Upload with sluice itself (a byte copy), then read it back through ranged GETs.
    s.ok("convert", "--help")  # the binary runs
    try:
        import boto3
    except ImportError:
        raise Skip("boto3 is not installed")
    boto = boto3.client("s3", endpoint_url=endpoint, region_name=os.environ.get("AWS_REGION", "us-east-1"),
                        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID"),
                        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY"))
    boto.put_object(Bucket=bucket, Key=key, Body=read(path))
    s.ok("convert", path, os.path.join(d, "local.jsonl"))
    s.ok("convert", f"s3://{bucket}/{key}", os.path.join(d, "s3.jsonl"))
    eq(read(os.path.join(d, "s3.jsonl")), read(os.path.join(d, "local.jsonl")), "s3:// input = local input")
    r = s.run("convert", f"s3://{bucket}/parquet-read/{os.getpid()}/missing.parquet", os.path.join(d, "m.jsonl"))
    check(r.returncode == 1 and ("404" in err(r) or "NoSuchKey" in err(r)), f"exit {r.returncode}: {err(r)}")


# --- load: Parquet into Postgres through the reader ----------------------------------------------
@s.case("load")
def _(d):
    dsn = os.environ.get("SLUICE_TEST_PG_DSN", "")
    if not dsn or not shutil.which("psql"):
        raise Skip("SLUICE_TEST_PG_DSN or psql is missing")
    path = os.path.join(d, "x.parquet")
    duckdb(f"COPY (SELECT i AS id, 'n' || i AS name, CASE WHEN i % 3 = 0 THEN NULL ELSE [i, i + 1] END AS tags, "
           f"(i * 1.25)::DECIMAL(10,2) AS amount, TIMESTAMPTZ '2024-01-01 00:00:00+00' + INTERVAL (i) HOUR AS at, "
           f"('\\x00ab' || (i % 10))::BLOB AS raw FROM range(500) t(i)) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 100)", "SELECT 1")
    table = f"parquet_load_{os.getpid()}"

    def psql(sql):
        r = subprocess.run(["psql", dsn, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True, timeout=60)
        if r.returncode != 0:
            raise Failure(f"psql: {r.stderr.decode(errors='replace')}")
        return r.stdout.decode()

    psql(f"DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (id bigint, name text, tags int[], amount numeric(10,2), at timestamptz, raw bytea)")
    try:
        s.ok("load", path, "--dsn", dsn, "--table", table)
        got = psql(f"SELECT count(*), sum(id), sum(amount), count(tags), sum(array_length(tags, 1)), "
                   f"min(at AT TIME ZONE 'UTC'), max(tags[2]) FROM {table}").strip()
        eq(got, "500|124750|155937.50|333|666|2024-01-01 00:00:00|500", "loaded rows")
        # BLOB bytes arrive as they are (bytea hex in the COPY, not DuckDB's \\x text).
        eq(psql(f"SELECT encode(raw, 'hex') FROM {table} WHERE id = 7").strip(), "00616237", "bytea value")
    finally:
        psql(f"DROP TABLE IF EXISTS {table}")


s.finish()
