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
    # A name that does not exist: exit 1 (the server said so), its message, no file.
    out = os.path.join(d, "none.csv")
    r = export("--table", f"{SCHEMA}.no_such_table", "--to", out)
    expect_exit(r, 1, "missing table")
    check("42P01" in err(r), f"no SQLSTATE in {err(r)!r}")
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
    expect_exit(r, 1, "division by zero")
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
    expect_exit(r, 1, "duplicate load without --key")
    check("23505" in err(r), f"no SQLSTATE in {err(r)!r}")
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
    # The export writes json values compacted, so the json text that loads back is compact.
    eq(table_dump(f"{SCHEMA}.arr2"), table_dump(f"{SCHEMA}.arr").replace(b'[""x"", 1]', b'[""x"",1]'),
       "arrays after the round trip")


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


# --- json values on one line (issue 10, defect 1) ----------------------------------------------
# (stored json text, as sluice writes it): pretty-printed, CRLF between tokens, \n escapes and
# spaces inside strings, nested arrays of objects, duplicate keys and number text kept.
PRETTY = [
    ('{\n  "a": 1,\n  "b": [\n    1,\n    2.50\n  ]\n}', '{"a":1,"b":[1,2.50]}'),
    ('{\r\n\t"k" : "line\\nbreak \\"q\\" \\\\ ",\r\n\t"n":1e400 ,"k":"dup"}\r\n',
     '{"k":"line\\nbreak \\"q\\" \\\\ ","n":1e400,"k":"dup"}'),
    ('[\n  {"x": [ {"y": [ ] }, { } ] },\n  { "z" : "a  b\\u0041" }\n]',
     '[{"x":[{"y":[]},{}]},{"z":"a  b\\u0041"}]'),
]


@s.case("export_json_values_one_line")
def _(d):
    rows = ", ".join(f"({i + 1}, $j${raw}$j$, $j${raw}$j$, ARRAY[$j${raw}$j$]::json[])"
                     for i, (raw, _) in enumerate(PRETTY))
    psql(f"drop table if exists {SCHEMA}.pretty; "
         f"create table {SCHEMA}.pretty (id int, j json, jb jsonb, ja json[]); "
         f"insert into {SCHEMA}.pretty values {rows}")
    q = f"select * from {SCHEMA}.pretty order by id"
    # What the server embeds (the text as written), with each json value compacted; jsonb
    # stays byte for byte what the server prints.
    want = row_to_json_lines(q)
    for raw, compact in PRETTY:
        check(raw.encode() in want, "row_to_json does not embed the json text as written")
        want = want.replace(raw.encode(), compact.encode())
    eq(want.count(b"\n"), len(PRETTY), "expected lines")
    out = os.path.join(d, "p.jsonl")
    expect_exit(export("--query", q, "--to", out), 0, "export json values")
    eq(read(out), want, "JSONL with json values")
    lines = read(out).decode().split("\n")
    eq(len(lines), len(PRETTY) + 1, "one line per row")
    for line in lines[:-1]:
        json.loads(line)
    # Server-side encoding (an enum column forces it): the same lines plus the enum.
    psql(f"create type {SCHEMA}.mood as enum ('ok')")
    q2 = f"select *, 'ok'::{SCHEMA}.mood as m from {SCHEMA}.pretty order by id"
    expect_exit(export("--query", q2, "--to", out), 0, "export with the server encoding")
    eq(read(out), want.replace(b"]}\n", b'],"m":"ok"}\n'), "server-encoded JSONL")
    # Compressed, the JSON array, and a line-based reader (convert) downstream.
    gz_out = os.path.join(d, "p.jsonl.gz")
    expect_exit(export("--table", f"{SCHEMA}.pretty", "--to", gz_out), 0, ".jsonl.gz")
    eq(gzip.decompress(read(gz_out)), want, ".jsonl.gz content")
    arr = os.path.join(d, "p.json")
    expect_exit(export("--query", q, "--to", arr), 0, ".json")
    eq(read(arr), b"[" + b",\n".join(want.splitlines()) + b"]\n", "JSON array")
    csv_out = os.path.join(d, "p.csv")
    r = s.run("convert", out, csv_out)
    expect_exit(r, 0, "convert the exported JSONL")
    eq(read(csv_out).count(b"\n"), len(PRETTY) + 1, "CSV lines from the exported JSONL")


# --- database errors exit 1 (issue 10, defect 2) -----------------------------------------------
def expect_db_failure(r, d, sqlstate, what):
    """Exit 1, the server's message with its SQLSTATE, nothing left in `d`, no password."""
    expect_exit(r, 1, what)
    check(f"[SQLSTATE {sqlstate}]" in err(r), f"{what}: no SQLSTATE {sqlstate} in {err(r)!r}")
    eq(listdir(d), [], f"{what}: directory after the failure")
    no_password(r, what)


@s.case("export_database_errors_exit_1")
def _(d):
    mid_stream = "select g, 1/(150000 - g) as x from generate_series(1, 200000) g"
    for ext in ("csv", "jsonl", "json", "csv.gz", "jsonl.zst"):
        out = os.path.join(d, f"out.{ext}")
        for args, state, what in (
                (("--query", "selec 1"), "42601", "syntax error"),
                (("--table", f"{SCHEMA}.no_such_table"), "42P01", "missing table"),
                (("--query", f"select no_such_column from {SCHEMA}.mixed"), "42703", "missing column"),
                (("--query", mid_stream), "22012", "division by zero after 150k rows")):
            r = export(*args, "--to", out)
            expect_db_failure(r, d, state, f"{what} -> .{ext}")
        r = export("--query", mid_stream, "--to", out)
        check("division by zero" in err(r), f"the server's message is missing: {err(r)!r}")
        check(re.search(r"after 1[0-9]{5} rows", err(r)), f"no row count in {err(r)!r}")
    # A statement timeout while the rows stream (the server cancels, not we).
    out = os.path.join(d, "slow.jsonl")
    slow = "select g, pg_sleep(0.0005) from generate_series(1, 100000) g"
    for fmt in ("csv", "jsonl"):
        r = s.run("export", "--dsn", DSN, "--query", slow, "--to", out, "--format", fmt,
                  env={"PGOPTIONS": "-c statement_timeout=700"})
        expect_db_failure(r, d, "57014", f"statement timeout ({fmt})")
    # Permission denied, as a role that may not read the table.
    role = f"cli_reader_{os.getpid()}"
    psql(f"create role {role} login password 'pw{os.getpid()}'; "
         f"grant usage on schema {SCHEMA} to {role}")
    try:
        u = urllib.parse.urlparse(DSN)
        limited = DSN.replace(f"{u.username}:{u.password}@", f"{role}:pw{os.getpid()}@")
        r = s.run("export", "--dsn", limited, "--table", f"{SCHEMA}.mixed", "--to",
                  os.path.join(d, "denied.csv"))
        expect_db_failure(r, d, "42501", "permission denied")
        check("permission denied" in err(r), f"the server's message is missing: {err(r)!r}")
    finally:
        psql(f"revoke usage on schema {SCHEMA} from {role}; drop role {role}")
    # Usage errors sluice finds before asking the server stay 2, also with no server at all.
    closed = DSN.replace(f":{urllib.parse.urlparse(DSN).port}/", ":1/")
    r = s.run("export", "--dsn", closed, "--table", '"unterminated', "--to", os.path.join(d, "x.csv"))
    expect_exit(r, 2, "a malformed --table with an unreachable server")
    eq(listdir(d), [], "directory after the usage error")


@s.case("load_database_errors_exit_1")
def _(d):
    psql(f"drop table if exists {SCHEMA}.ld; create table {SCHEMA}.ld "
         f"(id int primary key, n int not null check (n > 0))")
    psql(f"insert into {SCHEMA}.ld values (1, 1)")
    before = table_dump(f"{SCHEMA}.ld")
    cases = (("dup.csv", "id,n\n2,2\n1,5\n", "23505", "unique violation"),
             ("null.csv", "id,n\n2,2\n3,\n", "23502", "not null violation"),
             ("check.jsonl", '{"id":2,"n":2}\n{"id":3,"n":-1}\n', "23514", "check violation"),
             ("type.csv", "id,n\n2,2\n3,abc\n", "22P02", "not an integer"))
    for name, data, state, what in cases:
        src = write(os.path.join(d, name), data)
        r = s.run("load", "--dsn", DSN, "--table", f"{SCHEMA}.ld", src)
        os.remove(src)
        expect_db_failure(r, d, state, f"load: {what}")
        eq(table_dump(f"{SCHEMA}.ld"), before, f"table after the failed load ({what})")
    src = write(os.path.join(d, "ok.csv"), "id,n\n2,2\n")
    r = s.run("load", "--dsn", DSN, "--table", f"{SCHEMA}.no_such_table", src)
    os.remove(src)
    expect_db_failure(r, d, "42P01", "load into a missing table")
    # Malformed input that sluice itself finds stays 2.
    src = write(os.path.join(d, "bad.csv"), 'id,n\n2,2\n3,"unterminated\n')
    r = s.run("load", "--dsn", DSN, "--table", f"{SCHEMA}.ld", src)
    expect_exit(r, 2, "load: malformed CSV")
    eq(table_dump(f"{SCHEMA}.ld"), before, "table after the malformed CSV")


# --- --crlf (issue 10, defect 3) -----------------------------------------------------------
def crlf_lines(csv_bytes):
    """CSV bytes with every line end outside quotes turned into CRLF (quoted LFs kept)."""
    out, quoted = bytearray(), False
    for b in csv_bytes:
        if b == ord('"'):
            quoted = not quoted
        if b == ord("\n") and not quoted:
            out += b"\r"
        out.append(b)
    return bytes(out)


@s.case("export_crlf")
def _(d):
    want = psql_copy_csv(MIXED_Q)
    check(b'"quote "" comma , newline \n' in want, "the table has no quoted LF (nothing tested)")
    out = os.path.join(d, "t.csv")
    expect_exit(export("--table", f"{SCHEMA}.mixed", "--to", out, "--crlf"), 0, "export --crlf")
    got = read(out)
    eq(got, crlf_lines(want), "--crlf CSV")
    check(got.startswith(b"id,i2,") and got.split(b"\n")[0].endswith(b"\r"), "header not CRLF")
    check(b'newline \n cr \r backslash' in got, "the quoted LF was changed")
    # Default: LF, as COPY prints it.
    expect_exit(export("--table", f"{SCHEMA}.mixed", "--to", out), 0, "export without --crlf")
    eq(read(out), want, "default line ends")
    # Compressed and to stdout.
    gz_out = os.path.join(d, "t.csv.gz")
    expect_exit(export("--table", f"{SCHEMA}.mixed", "--to", gz_out, "--crlf"), 0, ".csv.gz --crlf")
    eq(gzip.decompress(read(gz_out)), crlf_lines(want), ".csv.gz --crlf content")
    r = export("--query", f"select * from {SCHEMA}.mixed", "--to", "-", "--format", "csv", "--crlf")
    expect_exit(r, 0, "--crlf to stdout")
    eq(r.stdout, crlf_lines(want), "--crlf on stdout")
    # Only CSV has lines to end.
    for fmt in ("jsonl", "json"):
        r = export("--table", f"{SCHEMA}.mixed", "--to", os.path.join(d, "x." + fmt), "--crlf")
        expect_exit(r, 2, f"--crlf with {fmt}")
    os.remove(out)
    os.remove(gz_out)
    eq(listdir(d), [], "directory after the usage errors")


@s.case("load_misnamed_compressed_input")
def _(d):
    psql(f"drop table if exists {SCHEMA}.mn; create table {SCHEMA}.mn (id int, s text)")
    src = write(os.path.join(d, "data.csv.gz"), "id,s\n1,a\n")
    r = s.run("load", "--dsn", DSN, "--table", f"{SCHEMA}.mn", src)
    expect_exit(r, 2, "plain CSV named .csv.gz")
    check("data.csv.gz: not gzip data" in err(r), f"message: {err(r)!r}")
    eq(psql(f"select count(*) from {SCHEMA}.mn", args=("-A", "-t")).strip(), b"0", "rows loaded")
    # Named .csv, holding gzip: the magic bytes decide.
    src = write(os.path.join(d, "data.csv"), gzip.compress(b"id,s\n1,a\n"))
    expect_exit(s.run("load", "--dsn", DSN, "--table", f"{SCHEMA}.mn", src), 0, "gzip named .csv")
    eq(psql(f"select id, s from {SCHEMA}.mn", args=("-A", "-t")), b"1|a\n", "rows loaded")


try:
    psql(f"drop schema {SCHEMA} cascade; drop schema {ODD_SCHEMA} cascade")
except Failure as e:
    print(f"cleanup: {e}", file=sys.stderr)
s.finish()
