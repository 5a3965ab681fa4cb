#!/usr/bin/env python3
"""End-to-end tests of `sluice export` and `sluice load` against a real PostgreSQL server.

Needs SLUICE_TEST_PG_DSN (scripts/lib/postgres.sh's pg_start exports it, with PG* for psql);
SKIPs everything when it is unset.

    python3 tests/cli/test_postgres.py SLUICE SLUICE_DEMO
"""

import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

from cli_common import (Failure, Skip, Suite, check, eq, err, expect_exit, listdir, read,
                        write)

s = Suite("postgres")
DSN = os.environ.get("SLUICE_TEST_PG_DSN", "")
PASSWORD = os.environ.get("SLUICE_TEST_PG_PASSWORD", "")
if DSN:
    u = urllib.parse.urlparse(DSN)
    PSQL_ENV = dict(os.environ, PGHOST=u.hostname or "127.0.0.1", PGPORT=str(u.port or 5432),
                    PGUSER=urllib.parse.unquote(u.username or ""),
                    PGPASSWORD=urllib.parse.unquote(u.password or ""),
                    PGDATABASE=u.path.lstrip("/"))
    PASSWORD = PASSWORD or PSQL_ENV["PGPASSWORD"]
SCHEMA = f"cli_test_{os.getpid()}"
ODD_SCHEMA = f'"Odd ""Schema"".x{os.getpid()}"'
ODD_TABLE = f'{ODD_SCHEMA}."Tab.le ""q"" É"'
PSQL = shutil.which("psql")


def psql(sql, tz="UTC", args=(), input=None):
    """Runs SQL with psql; returns stdout bytes."""
    env = dict(PSQL_ENV, PGTZ=tz, PGOPTIONS=f"-c search_path={SCHEMA},public")
    r = subprocess.run([PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", *args, "-c", sql],
                       env=env, capture_output=True, input=input, timeout=300)
    if r.returncode != 0:
        raise Failure(f"psql {sql[:100]!r}: {r.stderr.decode(errors='replace')}")
    return r.stdout


def psql_copy_csv(query, tz="UTC"):
    return psql(f"\\copy ({query}) to stdout with (format csv, header)", tz)


def row_to_json_lines(query, tz="UTC"):
    out = psql(f"select row_to_json(q) from ({query}) q", tz, args=("-A", "-t"))
    return out


# row_to_json embeds a json value's text as it was written; sluice writes it compacted.
MIXED_JSON = (b'{"a": [1, 2.50]}', b'{"a":[1,2.50]}')


def exported_json_lines(query, tz="UTC"):
    """What `export` writes as JSONL: row_to_json with the mixed table's json compacted."""
    return row_to_json_lines(query, tz).replace(*MIXED_JSON)


def export(*args, tz="UTC", **kw):
    return s.run("export", "--dsn", DSN, "--timezone", tz, *args, **kw)


def no_password(r, what):
    for stream in (r.stdout, r.stderr):
        text = stream.decode("utf-8", "replace")
        if PASSWORD and PASSWORD in text:
            raise Failure(f"{what}: the DSN password appears in the output: {text[:300]!r}")


MIXED = f"""
create schema {SCHEMA};
set search_path = {SCHEMA};
create table mixed (
  id int primary key, i2 smallint, i8 bigint, f4 real, f8 double precision, n numeric,
  b boolean, s text, v varchar(20), d date, ts timestamp, tz timestamptz, j json, jb jsonb,
  by bytea, ia int[], ta text[], m2 int[][], u uuid, iv interval, o oid, c char(3));
insert into mixed values
 (1, 32767, 9223372036854775807, 3.4e38, 1.7976931348623157e308,
  12345678901234567890.000000000000001, true, 'plain', 'v', '2026-01-02',
  '2026-01-02 03:04:05.123456', '2026-06-01 12:00:00+02', '{{"a": [1, 2.50]}}',
  '{{"b": 1e3, "a": null}}', '\\xdeadbeef', '{{1,NULL,3}}', '{{"a b","c\\"d",NULL,"e,f"}}',
  '{{{{1,2}},{{NULL,4}}}}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '1 day 02:03:04', 42, 'ab'),
 (2, -32768, -9223372036854775808, 'NaN', 'Infinity', 'NaN', false,
  E'quote " comma , newline \\n cr \\r backslash \\\\ tab \\t unicode é 李 🚚', '', '-infinity',
  'infinity', '1970-01-01 00:00:00Z', 'null', '[]', '\\x', '{{}}', '{{}}', '{{{{{{1}}}}}}', NULL,
  '-1 mon', 0, 'x'),
 (3, NULL, NULL, '-Infinity', -0.0, -0.000100, NULL, '', NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, '{{""}}', NULL, NULL, NULL, NULL, NULL),
 (4, 0, 0, 1.5e-45, 5e-324, 0, true, '\\N', 'NULL', '0001-01-01 BC', '2000-02-29 23:59:59.999999',
  '2026-03-29 01:30:00 Europe/London', '{{"x":"\\u00e9"}}', '{{"k":"line\\nbreak"}}', '\\x00ff',
  '{{-2147483648}}', '{{"\\\\"}}', '{{{{1}},{{2}}}}', '00000000-0000-0000-0000-000000000000', '0',
  4294967295, '   ');
create schema {ODD_SCHEMA};
create table {ODD_TABLE} ("Col A" int, "b""c" text);
insert into {ODD_TABLE} values (1, 'one'), (2, NULL), (3, 'th,ree');
create table big as select g as id, md5(g::text) as h, now() as t from generate_series(1, 2000000) g;
"""

if not DSN:
    print("SKIP postgres: SLUICE_TEST_PG_DSN is not set (source scripts/lib/postgres.sh; pg_start)")
    s.skipped += 1
    s.finish()
if not PSQL:
    print("SKIP postgres: psql is not installed")
    s.skipped += 1
    s.finish()

psql(MIXED)
MIXED_Q = "select * from mixed"


@s.case("export_csv_equals_copy")
def _(d):
    for tz in ("UTC", "America/New_York"):
        out = os.path.join(d, f"t_{tz.replace('/', '_')}.csv")
        r = export("--table", f"{SCHEMA}.mixed", "--to", out, tz=tz)
        expect_exit(r, 0, f"export --table, TimeZone {tz}")
        eq(read(out), psql_copy_csv(MIXED_Q, tz), f"CSV vs psql \\copy under {tz}")


@s.case("export_query_csv")
def _(d):
    q = f"select id, s, n, tz, ta from {SCHEMA}.mixed where id <> 3 order by id desc"
    out = os.path.join(d, "q.csv")
    expect_exit(export("--query", q, "--to", out), 0, "export --query")
    eq(read(out), psql_copy_csv(q), "--query CSV vs psql \\copy")
    # Stdout with --format.
    r = export("--query", q, "--to", "-", "--format", "csv")
    expect_exit(r, 0, "export --query --to -")
    eq(r.stdout, psql_copy_csv(q), "--to - CSV")


@s.case("export_odd_identifiers")
def _(d):
    # As typed on a command line: quoted parts keep dots, quotes, spaces and case.
    sql_name = ODD_TABLE
    name = sql_name
    out = os.path.join(d, "odd.csv")
    r = export("--table", name, "--to", out)
    expect_exit(r, 0, f"export --table {name}")
    eq(read(out), psql_copy_csv(f"select * from {sql_name}"), "odd identifiers CSV")
    eq(read(out), 'Col A,"b""c"\n1,one\n2,\n3,"th,ree"\n'.encode(), "odd identifiers literal CSV")
    out = os.path.join(d, "odd.jsonl")
    r = export("--table", name, "--to", out)
    expect_exit(r, 0, "export odd --to .jsonl")
    eq(read(out), row_to_json_lines(f"select * from {sql_name}"), "odd identifiers JSONL")
    # A name that does not exist: exit 1 or 2, with the server's message, no file.
    out = os.path.join(d, "none.csv")
    r = export("--table", f"{SCHEMA}.no_such_table", "--to", out)
    check(r.returncode in (1, 2), f"missing table: exit {r.returncode}")
    check("no_such_table" in err(r), f"message does not name the table: {err(r)!r}")
    check(not os.path.exists(out), "output created for a missing table")
    no_password(r, "missing table")
    # SQL injection through --table is quoted away.
    r = export("--table", f"{SCHEMA}.mixed; drop table {SCHEMA}.mixed", "--to", out)
    check(r.returncode != 0, "an injected --table name was accepted")
    psql(f"select 1 from {SCHEMA}.mixed limit 1")


@s.case("export_jsonl_equals_row_to_json")
def _(d):
    for tz in ("UTC", "Asia/Kolkata"):
        out = os.path.join(d, "t.jsonl")
        r = export("--table", f"{SCHEMA}.mixed", "--to", out, tz=tz)
        expect_exit(r, 0, f"export jsonl, TimeZone {tz}")
        got = read(out).decode("utf-8").splitlines()
        want = exported_json_lines(MIXED_Q, tz).decode("utf-8").splitlines()
        eq(len(got), len(want), "line count")
        for g, w in zip(got, want):
            eq(g, w, f"JSONL line under {tz}")
    # --query, via stdout, with --format.
    q = f"select id, f4, f8, n, m2, jb from {SCHEMA}.mixed order by id"
    r = export("--query", q, "--to", "-", "--format", "jsonl")
    expect_exit(r, 0, "export --query jsonl to stdout")
    eq(r.stdout, exported_json_lines(q), "--query JSONL")


@s.case("export_json_array")
def _(d):
    out = os.path.join(d, "t.json")
    expect_exit(export("--table", f"{SCHEMA}.mixed", "--to", out), 0, "export .json")
    arr = json.loads(read(out))
    want = [json.loads(l) for l in row_to_json_lines(MIXED_Q).decode().splitlines()]
    eq(arr, want, ".json array vs row_to_json")
    # An empty result: [] (valid JSON), and CSV just the header.
    q = f"select id, s from {SCHEMA}.mixed where false"
    expect_exit(export("--query", q, "--to", out), 0, "empty .json")
    eq(json.loads(read(out)), [], "empty result as .json")
    out = os.path.join(d, "empty.csv")
    expect_exit(export("--query", q, "--to", out), 0, "empty .csv")
    eq(read(out), psql_copy_csv(q), "empty result as CSV")


@s.case("export_compressed")
def _(d):
    want_csv = psql_copy_csv(MIXED_Q)
    want_jsonl = exported_json_lines(MIXED_Q)
    out = os.path.join(d, "t.csv.gz")
    expect_exit(export("--table", f"{SCHEMA}.mixed", "--to", out), 0, ".csv.gz")
    check(subprocess.run(["gzip", "-t", out]).returncode == 0, "gzip -t failed")
    eq(gzip.decompress(read(out)), want_csv, ".csv.gz content")
    out = os.path.join(d, "t.jsonl.zst")
    expect_exit(export("--table", f"{SCHEMA}.mixed", "--to", out), 0, ".jsonl.zst")
    z = subprocess.run(["zstd", "-q", "-d", "-c", out], capture_output=True)
    eq(z.returncode, 0, "zstd -d")
    eq(z.stdout, want_jsonl, ".jsonl.zst content")
    out = os.path.join(d, "t.out")
    expect_exit(export("--table", f"{SCHEMA}.mixed", "--to", out, "--format", "jsonl",
                       "--compress", "gzip", "--level", "9"), 0, "--format/--compress")
    eq(gzip.decompress(read(out)), want_jsonl, "--compress gzip content")
    # The big table through gzip, compared with psql piped through gzip -d.
    out = os.path.join(d, "big.csv.gz")
    expect_exit(export("--table", f"{SCHEMA}.big", "--to", out), 0, "big .csv.gz")
    eq(gzip.decompress(read(out)), psql_copy_csv(f"select * from {SCHEMA}.big"), "big CSV")


@s.case("export_progress")
def _(d):
    psql(f"analyze {SCHEMA}.big")
    for extra in ((), ("--count",)):
        out = os.path.join(d, "big.jsonl.gz")
        r = export("--table", f"{SCHEMA}.big", "--to", out, "--progress", *extra)
        expect_exit(r, 0, f"--progress {' '.join(extra)}")
        text = err(r)
        check("\r" not in text and "\033[" not in text, f"terminal codes on a non-tty: {text!r}")
        check(re.search(r"2,?000,?000 rows", text), f"no row count in {text!r}")
        check("%" in text, f"no percentage with --table {' '.join(extra)}: {text!r}")
        if extra:
            check(re.search(r"100(\.0)?%", text), f"--count: no 100%: {text!r}")
    r = export("--query", f"select * from {SCHEMA}.mixed", "--to", os.path.join(d, "q.csv"),
               "--progress", "--count")
    expect_exit(r, 0, "--query --progress --count")
    check(re.search(r"\b4 rows", err(r)), f"no summary with 4 rows: {err(r)!r}")


@s.case("export_backend_killed")
def _(d):
    out = os.path.join(d, "big.jsonl.gz")
    p = subprocess.Popen([s.sluice, "export", "--dsn", DSN, "--table", f"{SCHEMA}.big", "--to", out],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    killed = b""
    for _ in range(50):
        time.sleep(0.1)
        killed = psql("select pg_terminate_backend(pid) from pg_stat_activity "
                      f"where pid <> pg_backend_pid() and query like '%{SCHEMA}%big%' "
                      "and query not like '%pg_terminate_backend%'", args=("-A", "-t"))
        if b"t" in killed or p.poll() is not None:
            break
    stdout, stderr = p.communicate(timeout=60)
    check(b"t" in killed, f"no backend found to terminate (exit {p.returncode})")
    eq(p.returncode, 1, f"exit after pg_terminate_backend (stderr {stderr[:300]!r})")
    check(stderr.strip(), "no error message")
    eq(listdir(d), [], "directory after the killed export")
    check(PASSWORD.encode() not in stderr, "password in the message")


@s.case("export_sigint")
def _(d):
    out = os.path.join(d, "big.csv.zst")
    p = subprocess.Popen([s.sluice, "export", "--dsn", DSN, "--table", f"{SCHEMA}.big", "--to", out,
                          "--level", "19"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.7)
    running = p.poll() is None
    p.send_signal(signal.SIGINT)
    _, stderr = p.communicate(timeout=60)
    check(running, "the export finished before SIGINT")
    eq(p.returncode, 130, f"exit after SIGINT (stderr {stderr[:300]!r})")
    eq(listdir(d), [], "directory after SIGINT")
    # The cancelled query does not linger on the server.
    time.sleep(0.5)
    left = psql("select count(*) from pg_stat_activity where state = 'active' and pid <> pg_backend_pid() "
                f"and query like '%{SCHEMA}%big%'", args=("-A", "-t"))
    eq(left.strip(), b"0", "queries still active after the cancelled export")


@s.case("export_usage_errors")
def _(d):
    out = os.path.join(d, "x.csv")
    for args, what in (((), "neither --table nor --query"),
                       (("--table", "mixed", "--query", "select 1"), "both --table and --query"),
                       (("--table", "mixed", "--format", "xml"), "bad --format"),
                       (("--table", "mixed", "--compress", "lz4"), "bad --compress"),
                       (("--table", '"unterminated'), "unterminated quoted name")):
        r = s.run("export", "--dsn", DSN, "--to", out, *args)
        expect_exit(r, 2, what)
        no_password(r, what)
    r = s.run("export", "--dsn", DSN, "--table", "mixed", "--to", os.path.join(d, "x.unknown"))
    expect_exit(r, 2, "unknown output extension")
    eq(listdir(d), [], "directory after usage errors")


@s.case("password_never_printed")
def _(d):
    u = urllib.parse.urlparse(DSN)
    wrong = "Wr0ngPassw0rd-" + str(os.getpid())
    bad_uri = DSN.replace(f":{u.password}@", f":{wrong}@")
    bad_kv = (f"host={u.hostname} port={u.port} dbname={u.path.lstrip('/')} "
              f"user={u.username} password={wrong}")
    out = os.path.join(d, "x.csv")
    for dsn in (bad_uri, bad_kv):
        r = s.run("export", "--dsn", dsn, "--table", "mixed", "--to", out,
                  env={"PGPASSWORD": None})
        expect_exit(r, 1, "wrong password")
        text = r.stdout + r.stderr
        check(err(r), "no error message")
        check(wrong.encode() not in text, f"the wrong password is printed: {err(r)!r}")
        check(PASSWORD.encode() not in text, f"the password is printed: {err(r)!r}")
        r = s.run("load", "--dsn", dsn, "--table", "mixed", write(os.path.join(d, "in.csv"), "id\n1\n"),
                  env={"PGPASSWORD": None})
        expect_exit(r, 1, "load with a wrong password")
        check(wrong.encode() not in r.stdout + r.stderr, f"load prints the password: {err(r)!r}")
        os.remove(os.path.join(d, "in.csv"))
    # The right password but a server error: still not printed.
    r = export("--query", "select 1/0", "--to", out)
    check(r.returncode in (1, 2), f"division by zero: exit {r.returncode}")
    check("division by zero" in err(r), f"server message missing: {err(r)!r}")
    no_password(r, "server error")
    # Unreachable server: exit 1, no password.
    closed = DSN.replace(f":{u.port}/", ":1/")
    r = s.run("export", "--dsn", closed, "--table", "mixed", "--to", out)
    expect_exit(r, 1, "connection refused")
    no_password(r, "connection refused")
    eq(listdir(d), [], "directory after the failures")


# --- load ------------------------------------------------------------------------------------
LOAD_TABLE = f"""
create table {SCHEMA}.target (id int primary key, name text, amount numeric, meta jsonb,
                              at timestamptz, flag boolean)
"""


def table_dump(table):
    return psql(f"\\copy (select * from {table} order by id) to stdout with (format csv, header)")


@s.case("load_csv_and_jsonl_idempotent")
def _(d):
    psql(f"drop table if exists {SCHEMA}.target; {LOAD_TABLE}")
    csv_src = write(os.path.join(d, "in.csv"),
                    'id,name,amount,meta,at,flag\n'
                    '1,Ann,12.50,"{""k"": [1, 2.50]}",2026-01-02T03:04:05Z,true\n'
                    '2,"Bob, Jr.",-0.001,[],1970-01-01T00:00:00Z,false\n'
                    '3,"multi\nline ""q""",,,,\n'
                    '4,李,99999999999999999999.99,"{""s"": ""x""}",2026-06-01 12:00:00+02,t\n')
    r = s.run("load", "--dsn", DSN, "--table", f"{SCHEMA}.target", "--key", "id", csv_src)
    expect_exit(r, 0, "load CSV")
    first = table_dump(f"{SCHEMA}.target")
    check(first.count(b"\n") >= 5, f"table after the CSV load: {first!r}")
    r = s.run("load", "--dsn", DSN, "--table", f"{SCHEMA}.target", "--key", "id", csv_src)
    expect_exit(r, 0, "load CSV twice")
    eq(table_dump(f"{SCHEMA}.target"), first, "table after loading the CSV twice with --key")
    # Without --key a second load hits the primary key: exit 1 (server) and nothing added.
    r = s.run("load", "--dsn", DSN, "--table", f"{SCHEMA}.target", csv_src)
    check(r.returncode in (1, 2), f"duplicate load without --key: exit {r.returncode}")
    eq(table_dump(f"{SCHEMA}.target"), first, "table after a failed load (all or nothing)")

    # JSONL: the same rows exported as JSONL load into an empty copy to the same table.
    jl = os.path.join(d, "t.jsonl.gz")
    expect_exit(export("--table", f"{SCHEMA}.target", "--to", jl), 0, "export target as JSONL")
    psql(f"create table {SCHEMA}.target2 (like {SCHEMA}.target including all)")
    for _ in range(2):
        r = s.run("load", "--dsn", DSN, "--table", f"{SCHEMA}.target2", "--key", "id", jl)
        expect_exit(r, 0, "load JSONL.gz with --key")
        eq(table_dump(f"{SCHEMA}.target2"), first, "JSONL-loaded table")
    # Upsert updates: change a row and load again.
    jl2 = write(os.path.join(d, "upd.jsonl"), '{"id":2,"name":"Robert","amount":1}\n{"id":5,"name":"new"}\n')
    r = s.run("load", "--dsn", DSN, "--table", f"{SCHEMA}.target2", "--key", "id", jl2)
    expect_exit(r, 0, "upsert JSONL")
    rows = psql(f"select id, name, amount from {SCHEMA}.target2 order by id", args=("-A", "-t"))
    eq(rows.decode(),
       '1|Ann|12.50\n2|Robert|1\n3|multi\nline "q"|\n4|李|99999999999999999999.99\n5|new|\n',
       "rows after the upsert")


@s.case("load_jsonl_export_roundtrip_types")
def _(d):
    # What `export` writes for array columns (JSON arrays) and for json/jsonb values that
    # are JSON strings must load back into those columns.
    psql(f"drop table if exists {SCHEMA}.arr, {SCHEMA}.arr2; "
         f"create table {SCHEMA}.arr (id int primary key, ia int[], ta text[], m2 int[][], "
         f"jb jsonb, j json); "
         f"insert into {SCHEMA}.arr values (1, ARRAY[1,NULL,3], ARRAY['a b', 'c\"d,', NULL], "
         f"ARRAY[[1,2],[3,4]], '\"str\"', '[\"x\", 1]'), (2, '{{}}', ARRAY[''], NULL, '{{}}', '\"\"'); "
         f"create table {SCHEMA}.arr2 (like {SCHEMA}.arr including all)")
    jl = os.path.join(d, "arr.jsonl")
    expect_exit(export("--table", f"{SCHEMA}.arr", "--to", jl), 0, "export arrays")
    r = s.run("load", "--dsn", DSN, "--table", f"{SCHEMA}.arr2", "--key", "id", jl)
    expect_exit(r, 0, f"load the exported JSONL ({read(jl).decode()!r})")
    eq(table_dump(f"{SCHEMA}.arr2"), table_dump(f"{SCHEMA}.arr"), "arrays after the round trip")


@s.case("load_bad_rows_dead_letters")
def _(d):
    psql(f"drop table if exists {SCHEMA}.strict; create table {SCHEMA}.strict "
         f"(id int primary key, n int not null, d date)")
    src = write(os.path.join(d, "in.csv"),
                "id,n,d\n"
                "1,10,2026-01-01\n"
                "2,abc,2026-01-02\n"         # not an int
                "3,30,2026-13-45\n"          # not a date
                "4,40,2026-01-04\n"
                "5,,2026-01-05\n"            # NULL into NOT NULL
                "6,60\n"                     # CSV: too few fields (line 7)
                "7,70,2026-01-07\n")
    dl = os.path.join(d, "dead.jsonl")
    r = s.run("load", "--dsn", DSN, "--table", f"{SCHEMA}.strict", "--on-error", "skip",
              "--dead-letter", dl, src)
    expect_exit(r, 0, "load --on-error skip")
    eq(psql(f"select id from {SCHEMA}.strict order by id", args=("-A", "-t")).split(),
       [b"1", b"4", b"7"], "loaded ids")
    bad = [json.loads(l) for l in read(dl).decode("utf-8").splitlines()]
    eq(len(bad), 4, f"dead letters: {bad}")
    for b in bad:
        check(b.get("error") and isinstance(b.get("raw"), str), f"incomplete dead letter {b}")
    raws = " | ".join(b["raw"] for b in bad)
    for needle in ("abc", "2026-13-45", "6,60"):
        check(needle in raws, f"{needle!r} not among the dead letters' raw texts: {raws!r}")
    check(any("line" in b and b["line"] == 7 for b in bad), f"the CSV error names no line 7: {bad}")
    check(re.search(r"\b4 bad\b", err(r)), f"no count of the 4 bad rows: {err(r)!r}")
    # Without --on-error skip: the load fails as a whole (all or nothing), exit 1 or 2.
    psql(f"truncate {SCHEMA}.strict")
    r = s.run("load", "--dsn", DSN, "--table", f"{SCHEMA}.strict", src)
    check(r.returncode in (1, 2), f"bad rows without skip: exit {r.returncode}")
    eq(psql(f"select count(*) from {SCHEMA}.strict", args=("-A", "-t")).strip(), b"0",
       "rows after a failed all-or-nothing load")


try:
    psql(f"drop schema {SCHEMA} cascade; drop schema {ODD_SCHEMA} cascade")
except Failure as e:
    print(f"cleanup: {e}", file=sys.stderr)
s.finish()
