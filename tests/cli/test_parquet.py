#!/usr/bin/env python3
"""End-to-end tests of Parquet OUTPUT through the CLI: `sluice export --to x.parquet` (file,
stdout, S3), `sluice convert in.csv out.parquet [--schema ...]`, every --compress,
--row-group-size, and --partition-by (Hive-style directories, --max-partitions, atomicity).
Every file is read back by DuckDB and by hyparquet (tests/cli/parquet_read.mjs) and compared
with the source: Postgres' own values of the same rows, or the CSV's fields. The last case
measures peak RSS: a 2M-row export costs what a 200k-row one does (within 15%), <= 64 MiB.

    python3 tests/cli/test_parquet.py SLUICE SLUICE_DEMO

Needs SLUICE_NPM_DIR (node_modules with @duckdb/node-api, hyparquet, hyparquet-compressors);
the export cases SLUICE_TEST_PG_DSN and psql, the S3 cases SLUICE_TEST_S3_ENDPOINT and boto3
(each skipped when missing). SLUICE_PARQUET_RSS_ROWS overrides the big export's row count.
"""

import csv
import decimal
import io
import json
import math
import os
import shutil
import subprocess
import time
import urllib.parse

from cli_common import Failure, Skip, Suite, check, eq, err, expect_exit, read, s3_client, write

s = Suite("parquet")
HERE = os.path.dirname(os.path.abspath(__file__))
NPM = os.environ.get("SLUICE_NPM_DIR", "")
DSN = os.environ.get("SLUICE_TEST_PG_DSN", "")
PSQL = shutil.which("psql")
SCHEMA = f"cli_parquet_{os.getpid()}"
ENDPOINT = os.environ.get("SLUICE_TEST_S3_ENDPOINT", "")
BUCKET = os.environ.get("SLUICE_TEST_S3_BUCKET", "sluice-test")


def node(script, *args):
    if not NPM or not os.path.isdir(os.path.join(NPM, "node_modules", "@duckdb", "node-api")):
        raise Failure(f"@duckdb/node-api is not installed under SLUICE_NPM_DIR={NPM!r}")
    r = subprocess.run(["node", os.path.join(HERE, script), *args], capture_output=True,
                       env=dict(os.environ, SLUICE_NPM_DIR=NPM), timeout=300)
    if r.returncode != 0:
        raise Failure(f"{script} failed: {r.stderr.decode(errors='replace')[-2000:]}")
    return json.loads(r.stdout)


def both_readers(path, order="ORDER BY 1"):
    """{"duckdb": ..., "hyparquet": ...} of a file (parquet_read.mjs)."""
    return node("parquet_read.mjs", path, order)


def duckdb(*sql):
    return node("parquet_duckdb.mjs", *sql)


# --- Postgres -----------------------------------------------------------------------------
if DSN:
    u = urllib.parse.urlparse(DSN)
    PSQL_ENV = dict(os.environ, PGHOST=u.hostname or "127.0.0.1", PGPORT=str(u.port or 5432),
                    PGUSER=urllib.parse.unquote(u.username or ""),
                    PGPASSWORD=urllib.parse.unquote(u.password or ""),
                    PGDATABASE=u.path.lstrip("/"), PGTZ="UTC")


def need_pg():
    if not DSN or not PSQL:
        raise Skip("SLUICE_TEST_PG_DSN and psql are needed")


def psql(sql):
    r = subprocess.run([PSQL, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                       env=PSQL_ENV, capture_output=True, timeout=600)
    if r.returncode != 0:
        raise Failure(f"psql {sql[:120]!r}: {r.stderr.decode(errors='replace')}")
    return r.stdout.decode()


def pg_json(query):
    """The rows of `query` as Postgres' own JSON (row_to_json), in order."""
    out = psql(f"select row_to_json(q) from ({query}) q")
    # Numbers with a fraction as exact decimals (numeric digits must compare exactly).
    return [json.loads(line, parse_float=decimal.Decimal) for line in out.splitlines() if line.strip()]


TYPES_TABLE = f"{SCHEMA}.types"
# Every type the CLI maps, NULLs in every column but id, extremes, unicode, "" vs NULL.
TYPES_DDL = f"""
create schema if not exists {SCHEMA};
create table {TYPES_TABLE} (
  id int8 primary key, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, ok bool,
  dec numeric(12,2), big numeric(38,10), num numeric, txt text, vc varchar(20), d date,
  ts timestamp, tstz timestamptz, t time, u uuid, j jsonb, b bytea, ai int4[], at text[],
  iv interval);
insert into {TYPES_TABLE}
select i,
  case when i % 7 = 0 then null when i = 1 then 32767 when i = 2 then -32768 else i % 300 end,
  case when i % 6 = 0 then null when i = 1 then 2147483647 when i = 2 then -2147483648 else i * 7919 end,
  case when i % 5 = 0 then null when i = 1 then 9223372036854775807 when i = 2 then -9223372036854775808 else i::int8 * 1000003 end,
  case when i % 8 = 0 then null else (i / 3.0)::float4 end,
  case when i % 9 = 0 then null when i = 3 then 'NaN' when i = 4 then 'Infinity' when i = 5 then '-Infinity' else i / 7.0 end,
  case when i % 4 = 0 then null else i % 2 = 0 end,
  case when i % 10 = 0 then null when i = 1 then 9999999999.99 when i = 2 then -9999999999.99 else i * 12.34 end,
  case when i % 11 = 0 then null else i * 1234567.0123456789 end,
  case when i % 12 = 0 then null when i = 1 then 123456789012345678901234567890.123456789 else i / 8.0 end,
  case when i % 13 = 0 then null when i % 13 = 1 then '' else 'naïve ☃ ' || i || ' "q", \n' end,
  case when i % 14 = 0 then null else 'v' || (i % 3) end,
  case when i % 15 = 0 then null when i = 1 then '0001-01-01' when i = 2 then '9999-12-31' else date '1969-12-25' + i end,
  case when i % 16 = 0 then null else timestamp '1960-01-01 00:00:00.5' + i * interval '37 hours 1.25 seconds' end,
  case when i % 17 = 0 then null else timestamptz '2024-02-29 23:59:59.123456+00' + i * interval '1 second' end,
  case when i % 18 = 0 then null else time '00:00:00' + i * interval '1013 milliseconds' end,
  case when i % 19 = 0 then null else md5(i::text)::uuid end,
  case when i % 20 = 0 then null else jsonb_build_object('i', i, 'a', jsonb_build_array(1, 'x', null)) end,
  case when i % 21 = 0 then null when i % 21 = 1 then '' else ('\\x00ff' || lpad(to_hex(i), 4, '0'))::bytea end,
  case when i % 22 = 0 then null when i % 22 = 1 then '{{}}' else array[i, null, i + 1] end,
  case when i % 23 = 0 then null else array['a' || (i % 3), null, ''] end,
  case when i % 24 = 0 then null else i * interval '1 day 2 hours' end
from generate_series(1, 3000) i;
"""


def make_types_table():
    need_pg()
    psql(f"drop schema if exists {SCHEMA} cascade;" + TYPES_DDL)


def micros_since_epoch(text, tz):
    """Postgres' timestamp text ('1960-01-01 00:00:00.5[+00]') -> microseconds since 1970."""
    import datetime as dt
    t = text.replace("T", " ")
    if tz:
        t = t[:-3] if t.endswith("+00") else t
        t = t[:-6] if t.endswith("+00:00") else t
    date, _, clock = t.partition(" ")
    y, mo, d = (int(x) for x in date.split("-"))
    hh, mm, ss = clock.split(":")
    sec, _, frac = ss.partition(".")
    days = (dt.date(y, mo, d) - dt.date(1970, 1, 1)).days
    return ((days * 24 + int(hh)) * 60 + int(mm)) * 60_000_000 + int(sec) * 1_000_000 + int((frac + "000000")[:6])


def expected_row(pg):
    """A Postgres row (row_to_json) as sluice's Parquet holds it, in hyparquet's terms."""
    import datetime as dt
    e = dict(pg)
    for k in ("i8", "id"):
        if e[k] is not None:
            e[k] = str(e[k])
    if e["f8"] is not None and isinstance(e["f8"], str):
        e["f8"] = e["f8"]  # "NaN" / "Infinity" / "-Infinity": parquet_read.mjs's spelling
    e["d"] = None if e["d"] is None else (dt.date.fromisoformat(e["d"]) - dt.date(1970, 1, 1)).days
    e["ts"] = None if e["ts"] is None else str(micros_since_epoch(e["ts"], False))
    e["tstz"] = None if e["tstz"] is None else str(micros_since_epoch(e["tstz"], True))
    e["j"] = None if e["j"] is None else json.dumps(e["j"], separators=(",", ":"), ensure_ascii=False)
    e["num"] = None if e["num"] is None else str(e["num"])  # exact text in a STRING
    e["b"] = None if e["b"] is None else {"hex": e["b"][2:]}
    return e


def same_number(got, want):
    if got is None or want is None:
        return got is None and want is None
    if str(want) in ("NaN", "Infinity", "-Infinity") or str(got) in ("NaN", "Infinity", "-Infinity"):
        return str(got) == str(want)
    return math.isclose(float(got), float(want), rel_tol=1e-6, abs_tol=1e-9)


def compare_hyparquet(rows, source):
    """hyparquet's rows against Postgres' (exact where hyparquet is exact)."""
    eq(len(rows), len(source), "row count")
    for got, pg in zip(rows, source):
        want = expected_row(pg)
        for k in ("id", "i2", "i4", "i8", "ok", "txt", "vc", "d", "ts", "tstz", "j", "b", "ai", "at", "iv", "num"):
            if got[k] != want[k]:
                raise Failure(f"hyparquet: row id={pg['id']} column {k}: {got[k]!r} != {want[k]!r}")
        for k in ("f4", "f8", "dec", "big"):
            if not same_number(got[k], want[k]):
                raise Failure(f"hyparquet: row id={pg['id']} column {k}: {got[k]!r} != {want[k]!r}")
        if (got["u"] is None) != (want["u"] is None):
            raise Failure(f"hyparquet: row id={pg['id']} uuid null mismatch")


def compare_duckdb(duck, source):
    """DuckDB's reading against Postgres' values (types and exact texts)."""
    types = dict(duck["columns"])
    want_types = {"id": "BIGINT", "i2": "SMALLINT", "i4": "INTEGER", "i8": "BIGINT", "f4": "FLOAT",
                  "f8": "DOUBLE", "ok": "BOOLEAN", "dec": "DECIMAL(12,2)", "big": "DECIMAL(38,10)",
                  "num": "VARCHAR", "txt": "VARCHAR", "vc": "VARCHAR", "d": "DATE", "ts": "TIMESTAMP",
                  "tstz": "TIMESTAMP WITH TIME ZONE", "t": "TIME", "u": "UUID", "j": types["j"],
                  "b": "BLOB", "ai": "INTEGER[]", "at": "VARCHAR[]", "iv": "VARCHAR"}
    check(types["j"] in ("JSON", "VARCHAR"), f"json column: {types['j']}")  # VARCHAR without the json extension
    eq(types, want_types, "DuckDB's column types")
    eq(len(duck["rows"]), len(source), "DuckDB's row count")
    for got, pg in zip(duck["rows"], source):
        for k in ("id", "i2", "i4", "i8", "dec", "big"):
            want = None if pg[k] is None else str(pg[k])  # integers and decimals: exact digits
            g = None if got[k] is None else str(got[k])
            if g != want:
                raise Failure(f"duckdb: row id={pg['id']} column {k}: {g!r} != {want!r}")
        if got["num"] != (None if pg["num"] is None else str(pg["num"])):
            raise Failure(f"duckdb: row id={pg['id']} column num: {got['num']!r} != {pg['num']!r}")
        for k in ("txt", "vc", "iv", "at", "ok", "ai", "t"):
            if got[k] != pg[k]:
                raise Failure(f"duckdb: row id={pg['id']} column {k}: {got[k]!r} != {pg[k]!r}")
        eq(got["u"], pg["u"], f"duckdb uuid of id={pg['id']}")
        if pg["tstz"] is not None:
            eq(micros_since_epoch(got["tstz"], True), micros_since_epoch(pg["tstz"], True), "timestamptz")
        if pg["ts"] is not None:
            eq(micros_since_epoch(got["ts"], False), micros_since_epoch(pg["ts"], False), "timestamp")
        eq(got["d"], pg["d"], f"duckdb date of id={pg['id']}")


def check_types_file(path):
    source = pg_json(f"select * from {TYPES_TABLE} order by id")
    got = both_readers(path, "ORDER BY id")
    compare_duckdb(got["duckdb"], source)
    # hyparquet reads in file order, the export's (SELECT * has no order).
    compare_hyparquet(sorted(got["hyparquet"]["rows"], key=lambda r: int(r["id"])), source)


def row_groups(path):
    return duckdb(f"SELECT count(DISTINCT row_group_id) AS n, min(compression) AS c1, max(compression) AS c2 "
                  f"FROM parquet_metadata('{path}')")["rows"][0]


@s.case("export_types")
def _(d):
    make_types_table()
    out = os.path.join(d, "types.parquet")
    s.ok("export", "--dsn", DSN, "--table", TYPES_TABLE, "--to", out)
    check(read(out)[:4] == b"PAR1", "the file starts with PAR1")
    check_types_file(out)
    eq(row_groups(out)["c1"], "ZSTD", "default codec")


@s.case("export_stdout_and_format")
def _(d):
    need_pg()
    r = s.ok("export", "--dsn", DSN, "--query", f"select * from {TYPES_TABLE} order by id",
             "--format", "parquet", "--to", "-")
    out = os.path.join(d, "stdout.parquet")
    write(out, r.stdout)
    check_types_file(out)


@s.case("export_compress_and_row_groups")
def _(d):
    need_pg()
    for codec, name in (("zstd", "ZSTD"), ("snappy", "SNAPPY"), ("gzip", "GZIP"), ("none", "UNCOMPRESSED")):
        out = os.path.join(d, f"{codec}.parquet")
        s.ok("export", "--dsn", DSN, "--table", TYPES_TABLE, "--to", out, "--compress", codec,
             "--row-group-size", "64KiB")
        meta = row_groups(out)
        eq((meta["c1"], meta["c2"]), (name, name), f"--compress {codec}")
        check(int(meta["n"]) >= 3, f"--row-group-size 64KiB made {meta['n']} row groups")
        check_types_file(out)
    r = s.run("export", "--dsn", DSN, "--table", TYPES_TABLE, "--to", os.path.join(d, "x.parquet"),
              "--compress", "lz4")
    expect_exit(r, 2, "unknown codec")
    check(b"zstd, snappy, gzip or none" in r.stderr, err(r))
    r = s.run("export", "--dsn", DSN, "--table", TYPES_TABLE, "--to", os.path.join(d, "x.parquet"),
              "--row-group-size", "lots")
    expect_exit(r, 2, "bad size")
    check(not os.path.exists(os.path.join(d, "x.parquet")), "no file after a usage error")


# --- CSV -> Parquet --------------------------------------------------------------------------
CSV_ROWS = [["id", "name", "amount", "at"]] + [
    [str(i), "" if i % 10 == 0 else f"n{i} ☃, \"q\"", "" if i % 7 == 0 else f"{i * 1.25:.2f}",
     f"2024-01-{1 + i % 28:02d} 10:00:0{i % 10}"] for i in range(1, 2001)]


def write_csv(path, rows):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    write(path, buf.getvalue().encode())


@s.case("convert_csv_all_strings")
def _(d):
    src = os.path.join(d, "in.csv")
    write_csv(src, CSV_ROWS)
    out = os.path.join(d, "out.parquet")
    s.ok("convert", src, out)
    got = both_readers(out, "ORDER BY CAST(id AS INTEGER)")
    eq([c[1] for c in got["duckdb"]["columns"]], ["VARCHAR"] * 4, "all strings")
    want = [dict(zip(CSV_ROWS[0], r)) for r in CSV_ROWS[1:]]
    eq(got["duckdb"]["rows"], want, "DuckDB's rows")  # "" stays "" in a string column
    eq(sorted(got["hyparquet"]["rows"], key=lambda r: int(r["id"])), want, "hyparquet's rows")
    # A header and no rows: a file with the columns and no rows.
    write(os.path.join(d, "empty.csv"), b"a,b\n")
    s.ok("convert", os.path.join(d, "empty.csv"), os.path.join(d, "empty.parquet"))
    got = both_readers(os.path.join(d, "empty.parquet"), "")
    eq([c[0] for c in got["duckdb"]["columns"]], ["a", "b"], "columns of an empty file")
    eq(got["duckdb"]["rows"], [], "no rows")


@s.case("convert_csv_schema")
def _(d):
    src = os.path.join(d, "in.csv.gz")
    import gzip
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(CSV_ROWS)
    write(src, gzip.compress(buf.getvalue().encode()))
    out = os.path.join(d, "typed.parquet")
    s.ok("convert", src, out, "--schema", "id:int64!,name:string,amount:decimal(10,2),at:timestamp",
         "--compress", "snappy")
    got = both_readers(out, "ORDER BY id")
    eq(got["duckdb"]["columns"], [["id", "BIGINT"], ["name", "VARCHAR"], ["amount", "DECIMAL(10,2)"],
                                  ["at", "TIMESTAMP"]], "typed columns")
    for r, src_row in zip(got["duckdb"]["rows"], CSV_ROWS[1:]):
        eq(str(r["id"]), src_row[0], "id")
        eq(r["name"], src_row[1], "name")
        eq(r["amount"], None if src_row[2] == "" else src_row[2], "amount (empty is NULL)")
        eq(r["at"], src_row[3], "at")
    eq(row_groups(out)["c1"], "SNAPPY", "codec")
    # A value that is not of its type names column and row; nothing is written.
    bad = os.path.join(d, "bad.csv")
    write(bad, b"id,x\n1,2\n2,zz\n")
    r = s.run("convert", bad, os.path.join(d, "bad.parquet"), "--schema", "id:int64,x:int32")
    expect_exit(r, 2, "bad value")
    check(b"column 'x', row 2" in r.stderr, err(r))
    check(not os.path.exists(os.path.join(d, "bad.parquet")), "no partial file")
    # JSON lines need a schema; with one they convert.
    jl = os.path.join(d, "in.jsonl")
    write(jl, b'{"id": 1, "x": "a"}\n{"id": 2, "x": null}\n{"x": "c", "id": 3, "extra": true}\n')
    r = s.run("convert", jl, os.path.join(d, "j.parquet"))
    expect_exit(r, 2, "JSON without --schema")
    check(b"--schema" in r.stderr, err(r))
    s.ok("convert", jl, os.path.join(d, "j.parquet"), "--schema", "id:int32,x:string")
    got = both_readers(os.path.join(d, "j.parquet"), "ORDER BY id")
    eq(got["duckdb"]["rows"], [{"id": 1, "x": "a"}, {"id": 2, "x": None}, {"id": 3, "x": "c"}], "JSONL rows")


@s.case("convert_compress_each_and_row_groups")
def _(d):
    src = s.generate(os.path.join(d, "events.csv"), 60_000)
    sizes = {}
    for codec, name in (("zstd", "ZSTD"), ("snappy", "SNAPPY"), ("gzip", "GZIP"), ("none", "UNCOMPRESSED")):
        out = os.path.join(d, f"{codec}.parquet")
        s.ok("convert", src, out, "--compress", codec, "--row-group-size", "256KiB")
        meta = row_groups(out)
        eq((meta["c1"], meta["c2"]), (name, name), f"--compress {codec}")
        check(int(meta["n"]) >= 2, f"{codec}: --row-group-size 256KiB made {meta['n']} row groups")
        n = duckdb(f"SELECT count(*) AS n FROM read_parquet('{out}')")["rows"][0]["n"]
        eq(int(n), 60_000, f"{codec}: rows")
        sizes[codec] = os.path.getsize(out)
    check(sizes["none"] > sizes["zstd"], f"zstd compresses: {sizes}")
    one = os.path.join(d, "one.parquet")
    s.ok("convert", src, one)
    eq(int(row_groups(one)["n"]), 1, "default row group size: one group for a small file")
    # Equal to the CSV, field for field (DuckDB reads both).
    # (DuckDB's CSV reader makes an empty field NULL; sluice keeps "" in a string column.)
    diff = duckdb(f"SELECT count(*) AS n FROM (SELECT * FROM read_csv('{src}', all_varchar=true) "
                  f"EXCEPT ALL SELECT nullif(COLUMNS(*), '') FROM read_parquet('{one}'))")["rows"][0]["n"]
    eq(int(diff), 0, "rows of the CSV missing from the Parquet file")


# --- Partitioned output ------------------------------------------------------------------------
def files_under(root):
    out = []
    for dirpath, _, names in os.walk(root):
        out += [os.path.relpath(os.path.join(dirpath, n), root) for n in names]
    return sorted(out)


@s.case("partitioned_csv")
def _(d):
    src = os.path.join(d, "p.csv")
    rows = [["day", "kind", "v"]] + [[f"2024-01-0{1 + i % 3}", ["a/b", "x=y", "", "plain"][i % 4], str(i)]
                                     for i in range(400)]
    write_csv(src, rows)
    root = os.path.join(d, "out")
    s.ok("convert", src, root + "/", "--partition-by", "day,kind", "--partition-memory", "64KiB")
    got = files_under(root)
    eq(len(got), 12, f"3 x 4 partitions: {got}")
    check("day=2024-01-01/kind=a%2Fb/part-00000.parquet" in got, f"'/' escaped: {got}")
    check("day=2024-01-02/kind=x%3Dy/part-00000.parquet" in got, f"'=' escaped: {got}")
    check("day=2024-01-01/kind=__HIVE_DEFAULT_PARTITION__/part-00000.parquet" in got, f"empty value: {got}")
    inner = both_readers(os.path.join(root, got[0]), "")
    # (DuckDB adds the path's columns itself; hyparquet shows the file's own schema.)
    eq([c[0] for c in inner["hyparquet"]["columns"]], ["v"], "partition columns are not in the files")
    back = duckdb(f"SELECT day::VARCHAR AS day, kind, v FROM read_parquet('{root}/**/*.parquet', "
                  f"hive_partitioning=true) ORDER BY CAST(v AS INTEGER)")["rows"]
    want = [{"day": r[0], "kind": r[1] or None, "v": r[2]} for r in rows[1:]]
    eq(back, want, "DuckDB's hive reading equals the source")


@s.case("partitioned_export_and_max_partitions")
def _(d):
    need_pg()
    root = os.path.join(d, "by_day")
    s.ok("export", "--dsn", DSN, "--query",
         f"select id, ok, d, txt, i4 from {TYPES_TABLE} where id <= 600", "--to", root + "/",
         "--partition-by", "ok", "--row-group-size", "16KiB")
    got = files_under(root)
    eq(got, ["ok=__HIVE_DEFAULT_PARTITION__/part-00000.parquet", "ok=false/part-00000.parquet",
             "ok=true/part-00000.parquet"], "partitions of a bool")
    back = duckdb(f"SELECT id, ok::BOOLEAN AS ok, d::VARCHAR AS d, txt, i4 FROM read_parquet('{root}/**/*.parquet', "
                  f"hive_partitioning=true) ORDER BY id")["rows"]
    source = pg_json(f"select id, ok, d::text as d, txt, i4 from {TYPES_TABLE} where id <= 600 order by id")
    for g, w in zip(back, source):
        g["id"] = int(g["id"])
    eq(len(back), len(source), "rows back")
    eq(back, source, "DuckDB's hive reading equals Postgres")
    # Too many partitions: exit 2, a clear message, and nothing left behind.
    root2 = os.path.join(d, "too_many")
    r = s.run("export", "--dsn", DSN, "--query", f"select id, txt from {TYPES_TABLE}", "--to", root2 + "/",
              "--partition-by", "id", "--max-partitions", "50")
    expect_exit(r, 2, "--max-partitions")
    check(b"past the limit of 50" in r.stderr, err(r))
    check(not os.path.exists(root2) or files_under(root2) == [], f"files left: {files_under(root2)}")
    check(not os.path.exists(root2), "the directory made by the failed run is removed")


# --- S3 --------------------------------------------------------------------------------------
def boto():
    return s3_client()


@s.case("export_s3")
def _(d):
    need_pg()
    b = boto()
    key = f"parquet-{os.getpid()}/types.parquet"
    s.ok("export", "--dsn", DSN, "--table", TYPES_TABLE, "--to", f"s3://{BUCKET}/{key}")
    out = os.path.join(d, "s3.parquet")
    write(out, b.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    check_types_file(out)
    # Partitions under a prefix.
    prefix = f"parquet-{os.getpid()}/parts/"
    s.ok("export", "--dsn", DSN, "--query", f"select id, ok, txt from {TYPES_TABLE}",
         "--to", f"s3://{BUCKET}/{prefix}", "--partition-by", "ok")
    keys = sorted(o["Key"] for o in b.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []))
    eq(keys, [prefix + "ok=__HIVE_DEFAULT_PARTITION__/part-00000.parquet", prefix + "ok=false/part-00000.parquet",
              prefix + "ok=true/part-00000.parquet"], "partition objects")
    n = 0
    for k in keys:
        local = os.path.join(d, k.replace("/", "_"))
        write(local, b.get_object(Bucket=BUCKET, Key=k)["Body"].read())
        n += both_readers(local, "")["hyparquet"]["num_rows"]
    eq(n, 3000, "rows in all partitions")
    # A failed partitioned upload leaves no object.
    prefix2 = f"parquet-{os.getpid()}/fail/"
    r = s.run("export", "--dsn", DSN, "--query", f"select id, txt from {TYPES_TABLE}",
              "--to", f"s3://{BUCKET}/{prefix2}", "--partition-by", "id", "--max-partitions", "10")
    expect_exit(r, 2, "--max-partitions on S3")
    eq(b.list_objects_v2(Bucket=BUCKET, Prefix=prefix2).get("KeyCount", 0), 0, "objects after a failure")


# --- Peak memory -------------------------------------------------------------------------------
RSS_BIG = int(os.environ.get("SLUICE_PARQUET_RSS_ROWS", "2000000"))


def export_peak_kib(out, rows):
    # Rows wide enough (~100 bytes compressed) that the small export already fills a row
    # group (16 MiB): past that, memory must not grow with the row count.
    query = (f"select i as id, 'user-' || (i % 50000) as name, i * 1.5 as amount, "
             f"timestamptz '2024-01-01' + i * interval '1 second' as at, "
             f"md5(i::text) || md5((i + 1)::text) || md5((i * 7)::text) || md5((i * 13)::text) as payload "
             f"from generate_series(1, {rows}) i")
    # A small fresh Python forks the export: a child's ru_maxrss counts the pages it had
    # before exec, and this process holds the readers' JSON.
    probe = ("import os,subprocess,sys\n"
             "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
             "e = p.stderr.read()\n"
             "_, st, ru = os.wait4(p.pid, 0)\n"
             "sys.stderr.buffer.write(e)\n"
             "print(ru.ru_maxrss if os.waitstatus_to_exitcode(st) == 0 else -1)\n")
    r = subprocess.run(["python3", "-c", probe, s.sluice, "export", "--dsn", DSN, "--query", query, "--to", out],
                       capture_output=True, timeout=900)
    kib = int(r.stdout.decode().strip() or -1)
    if kib < 0:
        raise Failure(f"export of {rows} rows failed: {r.stderr[:400]!r}")
    return kib


@s.case("export_peak_rss")
def _(d):
    need_pg()
    out = os.path.join(d, "rss.parquet")
    small = max(export_peak_kib(out, RSS_BIG // 10) for _ in range(2))
    t0 = time.monotonic()
    big = export_peak_kib(out, RSS_BIG)
    n = duckdb(f"SELECT count(*) AS n FROM read_parquet('{out}')")["rows"][0]["n"]
    eq(int(n), RSS_BIG, "rows of the big export")
    print(f"     export {RSS_BIG // 10} rows: peak {small / 1024:.1f} MiB; {RSS_BIG} rows "
          f"({time.monotonic() - t0:.1f} s): peak {big / 1024:.1f} MiB", flush=True)
    check(big <= small * 1.15, f"peak RSS {big / 1024:.1f} MiB for {RSS_BIG} rows vs {small / 1024:.1f} MiB "
                               f"for {RSS_BIG // 10}: more than 15% higher")
    check(big <= 64 * 1024, f"peak RSS {big / 1024:.1f} MiB > 64 MiB")


if DSN and PSQL:
    try:
        psql(f"drop schema if exists {SCHEMA} cascade")
    except Failure:
        pass
s.finish()
